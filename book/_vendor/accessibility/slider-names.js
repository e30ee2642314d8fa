// Give each widget slider's handle an accessible name: its widget's label (the description).
// Written for this book, not vendored: see book/_vendor/README.md.
//
// ipywidgets 8 draws a slider's handle with noUiSlider as role="slider" but without a name, so a
// screen reader announces an unnamed slider (axe-core: aria-input-field-name). The description is
// drawn next to it as a <label> tied to nothing. The widget manager draws widgets after the page
// has loaded, so handles are named as they appear.
(function () {
  function nameSliderHandles() {
    document.querySelectorAll(".widget-slider .noUi-handle:not([aria-label])").forEach((handle) => {
      const label = handle.closest(".widget-slider").querySelector(".widget-label");
      const name = label ? label.textContent.trim() : "";
      handle.setAttribute("aria-label", name || "slider");
    });
  }
  new MutationObserver(nameSliderHandles).observe(document.documentElement, {
    childList: true,
    subtree: true,
  });
})();

// Written for this book, not part of the npm package. Load it before require.js.
// embed-amd.js computes where its bundled font files are from the RequireJS module path of
// "@jupyter-widgets/html-manager/dist/libembed-amd", which by default is relative to the page
// (<page folder>/@jupyter-widgets/html-manager/dist/), where nothing exists. Pointing that path at
// the folder this script sits in (next to embed-amd.js) makes the fonts load, also from file://.
// RequireJS takes a global `require` object defined before it loads as its configuration.
var require = {
  paths: {
    "@jupyter-widgets/html-manager/dist": new URL(".", document.currentScript.src).href.replace(/\/$/, ""),
  },
};

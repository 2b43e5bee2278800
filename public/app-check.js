/* CareKey: the "this page could not start" message (issue 11, item 10).
 *
 * A classic script in old syntax on purpose: it must run in the very browsers that cannot run
 * the app (no WebAssembly, no ES modules), where a module or newer syntax would not run at all.
 * It shows the plain-HTML message already in the page when:
 *   - the browser lacks WebAssembly or ES modules (shown at once);
 *   - a script, style or the app's own code fails to load (a dropped connection, a blocked
 *     file): the loader's promise rejects or the element reports an error;
 *   - the app has not started after a long wait (a stalled download).
 * The app marks <html data-app="started"> when it mounts; after that this script stays quiet.
 * Served as a file (CSP script-src 'self' allows no inline script).
 */
(function () {
  var root = document.documentElement;
  var shown = false;
  var STALLED_MS = 45000;

  function started() {
    return root.getAttribute('data-app') === 'started';
  }

  function reveal() {
    var box = document.getElementById('app-unavailable');
    if (!box) {
      return false;
    }
    var phone = box.querySelector('[data-clinic="phone"]');
    var hasPhone = phone && (phone.textContent || '').replace(/\s/g, '') !== '';
    var withPhone = box.querySelector('[data-if="phone"]');
    var noPhone = box.querySelector('[data-if="no-phone"]');
    if (withPhone) { withPhone.hidden = !hasPhone; }
    if (noPhone) { noPhone.hidden = !!hasPhone; }
    // Anything the app drew before it failed goes, so the message is all that is read.
    var kids = document.body.children;
    for (var i = kids.length - 1; i >= 0; i--) {
      var el = kids[i];
      if (el !== box && el.tagName !== 'SCRIPT' && el.tagName !== 'NOSCRIPT') {
        el.parentNode.removeChild(el);
      }
    }
    box.hidden = false;
    // Focus moves to the message so a screen reader starts reading there.
    if (box.focus) { box.focus(); }
    return true;
  }

  function show() {
    if (shown || started()) {
      return;
    }
    if (document.readyState === 'loading') {
      document.addEventListener('DOMContentLoaded', show);
      return;
    }
    shown = reveal();
  }

  var script = document.createElement('script');
  var modules = 'noModule' in script;
  var wasm = typeof WebAssembly === 'object' && WebAssembly !== null &&
    typeof WebAssembly.instantiate === 'function';
  if (!modules || !wasm) {
    show();
    return;
  }

  // Resource errors do not bubble; they reach a capturing listener on window. Only the app's
  // code counts: a missing stylesheet or icon leaves a working, if plainer, page. An uncaught
  // error before the app has started (the loader's failed fetch or compile, reported at the
  // window) means it will not start.
  window.addEventListener('error', function (e) {
    var t = e && e.target;
    if (!t || t === window || t === document) {
      show();
      return;
    }
    if (t.tagName === 'SCRIPT' || (t.tagName === 'LINK' && /preload/.test(t.rel || ''))) {
      show();
    }
  }, true);
  // The loader awaits the app's code: a failed fetch or compile rejects its promise.
  window.addEventListener('unhandledrejection', function () {
    show();
  });
  window.setTimeout(show, STALLED_MS);
})();

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

  // The same choice the app makes (crates/ui/src/language.rs): ?lang= on the address, then
  // this device's choice, then the first of the browser's languages that the portal has.
  function pageLang() {
    var have = { en: true, es: true };
    var m = /[?&]lang=([a-zA-Z]+)/.exec(window.location.search || '');
    if (m && have[m[1].toLowerCase()]) { return m[1].toLowerCase(); }
    try {
      var kept = window.localStorage && window.localStorage.getItem('carekey.lang');
      if (kept && have[kept]) { return kept; }
    } catch (e) { /* storage blocked: fall through to the browser's languages */ }
    var langs = navigator.languages || [navigator.language || navigator.userLanguage || 'en'];
    for (var j = 0; j < langs.length; j++) {
      var primary = String(langs[j]).split(/[-_]/)[0].toLowerCase();
      if (have[primary]) { return primary; }
    }
    return 'en';
  }

  // A patient page that starts in Spanish needs its words (crates/ui/src/language.rs fetches
  // /locales/es.ftl before drawing). Asking for them now, beside the app's own files, saves the
  // wait for the app to start first. English is inside the app. The staff console has no
  // data-catalogues (it stays English), so it asks for nothing.
  var thisScript = document.currentScript;
  var catalogues = thisScript && thisScript.getAttribute('data-catalogues');
  var first = pageLang();
  if (catalogues && first !== 'en' && document.head) {
    var preload = document.createElement('link');
    preload.rel = 'preload';
    preload.as = 'fetch';
    // The app's fetch is same-origin "cors" with same-origin credentials: this matches it, so
    // the app is given this download instead of starting another.
    preload.crossOrigin = 'anonymous';
    preload.href = catalogues + first + '.ftl';
    preload.setAttribute('data-catalogue', first);
    document.head.appendChild(preload);
  }

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
    var i;
    var withPhone = box.querySelectorAll('[data-if="phone"]');
    var noPhone = box.querySelectorAll('[data-if="no-phone"]');
    for (i = 0; i < withPhone.length; i++) { withPhone[i].hidden = !hasPhone; }
    for (i = 0; i < noPhone.length; i++) { noPhone[i].hidden = !!hasPhone; }
    // One copy of the message, in the page's language (the staff page has only English).
    var copies = box.querySelectorAll('[data-lang]');
    var lang = pageLang();
    var found = false;
    for (i = 0; i < copies.length; i++) {
      if (copies[i].getAttribute('data-lang') === lang) { found = true; }
    }
    for (i = 0; i < copies.length; i++) {
      copies[i].hidden = found && copies[i].getAttribute('data-lang') !== lang;
    }
    if (found) { root.setAttribute('lang', lang); }
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

  // The sign-in page the server drew into the page (crates/ui/src/first_page.rs) is shown only
  // here, where the app can run and take it over (style/main.css); elsewhere the message is.
  root.setAttribute('data-drawn', 'shown');
  // A form sent before the app runs must not go to the server as a plain form (a password in
  // the address): it waits, and the app sends it as soon as it has taken the page over.
  document.addEventListener('submit', function (e) {
    if (!started()) {
      e.preventDefault();
      root.setAttribute('data-submit-pending', '');
    }
  }, true);
  // A button pressed before the app runs ("Show" the password) is pressed again once it has
  // taken over: its place under <main id="main">, which the app's page has in the same shape.
  document.addEventListener('click', function (e) {
    var main = document.getElementById('main');
    var drawn = document.getElementById('first-page');
    var t = e.target;
    while (t && t.tagName !== 'BUTTON') { t = t.parentNode; }
    if (started() || !main || !drawn || !t || !drawn.contains(t) || !main.contains(t) ||
        t.type === 'submit') {
      return;
    }
    var path = [];
    for (var n = t; n !== main; n = n.parentNode) {
      path.unshift(Array.prototype.indexOf.call(n.parentNode.children, n));
    }
    var before = root.getAttribute('data-drawn-clicks');
    root.setAttribute('data-drawn-clicks', (before ? before + ' ' : '') + path.join('.'));
  }, true);

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
    // A catalogue that did not come is not a broken app: it opens in English instead.
    if (t.getAttribute && t.getAttribute('data-catalogue')) {
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

// citybot chat widget. It runs on a city's page, so everything it shows lives in an open shadow
// root (the page's CSS cannot reach in, its own cannot leak out), it defines no globals, sets no
// cookies and talks only to the server it was loaded from. citybot fills in CSS and TEXTS when
// it starts (the catalog may be the city's own); the protocol is docs/protocol.md.
(function () {
  'use strict';
  var CSS = /*CSS*/"";
  var TEXTS = /*TEXTS*/{};

  var script = document.currentScript;
  if (!script || !script.src || document.querySelector('citybot-widget')) return; // loaded twice
  // The town's look, then what the page's script tag sets.
  var opts = {}, k;
  for (k in TEXTS.look || {}) opts[k] = TEXTS.look[k];
  for (k in script.dataset) opts[k] = script.dataset[k];
  var server = new URL(script.src);
  // The bundle is at BASE/widget/app.<hash>.js, BASE being a town's /t/SLUG or nothing for the
  // default town; its chat is at BASE/ws.
  var BASE = server.pathname.replace(/\/widget\/[^\/]*$/, '');
  var WS_URL = (server.protocol === 'https:' ? 'wss://' : 'ws://') + server.host + BASE + '/ws';
  var MAX_TEXT = 2000, MAX_COMMENT = 1000;

  // sessionStorage only: the conversation ends with the tab, and no cookie is ever set. Access
  // throws where storage is blocked; the widget then works without resuming.
  var PREFIX = 'citybot:' + server.host + BASE + ':';
  var store = {
    get: function (k) { try { return sessionStorage.getItem(PREFIX + k); } catch (e) { return null; } },
    set: function (k, v) {
      try { if (v == null) sessionStorage.removeItem(PREFIX + k); else sessionStorage.setItem(PREFIX + k, v); } catch (e) { /* blocked */ }
    }
  };

  function supported(l) { return !!(l && TEXTS.texts[l]); }
  function firstSupported() {
    for (var i = 0; i < arguments.length; i++) {
      if (supported(arguments[i])) return arguments[i];
    }
    return 'de';
  }
  var pageLang = (document.documentElement.lang || '').toLowerCase().split('-')[0];
  var lang = firstSupported(store.get('lang'), opts.lang, pageLang);

  function t(id, l) {
    var m = TEXTS.texts[l || lang] || {};
    return m[id] || TEXTS.texts.de[id] || id;
  }
  // tf is t with its placeholders filled: tf('ui.queued', {Position: '2'}).
  function tf(id, data) {
    return t(id).replace(/\{\{\.([A-Za-z]+)\}\}/g, function (all, k) { return data[k] != null ? String(data[k]) : all; });
  }
  // The BCP 47 tag of a catalog language: Leichte Sprache is a private use of German.
  function tag(l) { return l === 'de-simple' ? 'de-x-simple' : l; }
  function rtl(l) { return l === 'ar' || l === 'fa'; }
  function count(n) {
    try { return n.toLocaleString(tag(lang)); } catch (e) { return String(n); }
  }

  // h builds an element: h('p', {class: 'x', text: 'hi', onclick: f}, [child, 'text']).
  function h(tagName, props, kids) {
    var el = document.createElement(tagName);
    for (var k in props || {}) {
      var v = props[k];
      if (v == null || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    (kids || []).forEach(function (c) {
      if (c) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return el;
  }

  var ICONS = {
    chat: 'M4 5h16v11H10l-6 4z',
    close: 'M6 6l12 12M18 6L6 18',
    send: 'M4 12l16-8-6 16-2.5-6.5z',
    up: 'M7 11v9H4v-9zM7 11l4-7c1.6 0 2.6 1.1 2.3 2.7L12.7 10H19a1.6 1.6 0 0 1 1.6 1.9l-1.3 6.4A2 2 0 0 1 17.3 20H7',
    globe: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18zM3 12h18M12 3c3.5 3.5 3.5 14.5 0 18M12 3c-3.5 3.5-3.5 14.5 0 18',
    person: 'M12 12a4 4 0 1 0 0-8a4 4 0 0 0 0 8zM4 21c1-4.5 4-6.5 8-6.5s7 2 8 6.5',
    info: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18zM12 11v6M12 7.5v.5',
    alert: 'M12 3l10 18H2zM12 10v5M12 18v.5',
    trash: 'M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13M10 11v6M14 11v6'
  };
  function icon(name, flip) {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    svg.setAttribute('class', 'i-' + name);
    var p = document.createElementNS(ns, 'path');
    p.setAttribute('d', ICONS[name]);
    if (flip) p.setAttribute('transform', 'matrix(1 0 0 -1 0 24)'); // thumbs down
    svg.appendChild(p);
    return svg;
  }

  // Theme: the city's colour (data-color, any CSS colour) for the launcher, the header and the
  // citizen's messages, with white or near-black text, whichever contrasts more; a colour that
  // reaches 4.5:1 with neither is darkened until one does (WCAG 1.4.3). Links and focus rings on
  // white use the colour darkened to 4.5:1 against white.
  function luminance(c) {
    var v = c.map(function (x) {
      x /= 255;
      return x <= 0.04045 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  }
  function contrast(a, b) {
    var la = luminance(a), lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }
  function darken(c) { return c.map(function (x) { return Math.floor(x * 0.92); }); }
  var WHITE = [255, 255, 255], DARK = [17, 17, 17];
  function theme(rgb) {
    while (Math.max(contrast(rgb, WHITE), contrast(rgb, DARK)) < 4.5) rgb = darken(rgb);
    var ink = rgb;
    while (contrast(ink, WHITE) < 4.5) ink = darken(ink);
    var css = function (c) { return 'rgb(' + c.join(',') + ')'; };
    var on = contrast(rgb, WHITE) >= contrast(rgb, DARK) ? WHITE : DARK;
    return '.cb{--a:' + css(rgb) + ';--on:' + css(on) + ';--ink:' + css(ink) + '}';
  }
  // parseColor resolves any CSS colour through the browser; null when it is none.
  function parseColor(value, probe) {
    probe.style.color = '';
    probe.style.color = value;
    if (!probe.style.color) return null;
    var m = getComputedStyle(probe).color.match(/\d+(\.\d+)?/g);
    return m && m.length >= 3 ? m.slice(0, 3).map(Number) : null;
  }

  // The host element goes at the end of <body>; it has no children in the page's DOM.
  var hostEl = document.createElement('citybot-widget');
  var root = hostEl.attachShadow({ mode: 'open' });
  var ui = {};
  var live; // the polite live region: it receives each new message's text, not the log

  function build() {
    ui.title = h('h2', { id: 'cb-title' });
    ui.langBtn = h('button', { type: 'button', class: 'langbtn', 'aria-expanded': 'false', 'aria-controls': 'cb-langs', onclick: toggleLangs },
      [icon('globe'), ui.langName = h('span')]);
    ui.closeBtn = h('button', { type: 'button', onclick: function () { close(true); } }, [icon('close')]);
    ui.langs = h('ul', { id: 'cb-langs', class: 'langs', hidden: true });
    ui.aboutTitle = h('h3', { id: 'cb-about-h', tabindex: '-1' });
    ui.aboutText = h('p');
    ui.aboutPrivacy = h('p');
    ui.forgetInfo = h('p');
    ui.aboutLink = h('a', { target: '_blank', rel: 'noopener', hidden: true }); // until welcome names the notice
    ui.back = h('button', { type: 'button', class: 'btn2', onclick: hideAbout });
    ui.about = h('section', { id: 'cb-about', class: 'about', 'aria-labelledby': 'cb-about-h', hidden: true },
      [ui.aboutTitle, ui.aboutText, ui.aboutPrivacy, ui.forgetInfo, h('p', {}, [ui.aboutLink]), h('div', { class: 'row' }, [ui.back])]);
    ui.status = h('p', { class: 'status', hidden: true });
    ui.log = h('div', { class: 'log', role: 'log', 'aria-live': 'off', tabindex: '0' });
    ui.typingText = h('span');
    ui.typing = h('div', { class: 'typing', hidden: true }, [h('span', { class: 'dots', 'aria-hidden': 'true' }, [h('i'), h('i'), h('i')]), ui.typingText]);
    // The live chat with a person: the place in the queue, or who writes now, and the way out.
    ui.liveText = h('p', { id: 'cb-live' });
    ui.liveBtn = h('button', { type: 'button', class: 'btn2', onclick: endLive });
    ui.liveBar = h('div', { class: 'livebar', hidden: true }, [icon('person'), ui.liveText, ui.liveBtn]);
    ui.inputLabel = h('label', { for: 'cb-q', class: 'sr' });
    ui.input = h('textarea', { id: 'cb-q', rows: '1', maxlength: String(MAX_TEXT), autocomplete: 'off', 'aria-describedby': 'cb-left',
      oninput: onInput, onkeydown: onInputKey });
    ui.send = h('button', { type: 'submit', class: 'send' }, [icon('send')]);
    ui.left = h('p', { id: 'cb-left', class: 'hint' });
    ui.human = h('button', { type: 'button', onclick: askHuman }, [icon('person'), ui.humanText = h('span')]);
    ui.aboutBtn = h('button', { type: 'button', 'aria-controls': 'cb-about', onclick: showAbout }, [icon('info'), ui.aboutBtnText = h('span')]);
    ui.forgetBtn = h('button', { type: 'button', 'aria-haspopup': 'dialog', onclick: askForget }, [icon('trash'), ui.forgetBtnText = h('span')]);
    ui.privacy = h('a', { target: '_blank', rel: 'noopener', hidden: true });
    // The confirmation of "delete conversation": a modal dialog (the rest of the page inert,
    // Escape cancels), focus first on the harmless choice.
    ui.forgetTitle = h('h3', { id: 'cb-forget-h' });
    ui.forgetText = h('p', { id: 'cb-forget-d' });
    ui.forgetYes = h('button', { type: 'button', class: 'danger', onclick: confirmForget });
    ui.forgetNo = h('button', { type: 'button', class: 'btn2', onclick: function () { ui.confirm.close(); } });
    ui.confirm = h('dialog', { class: 'confirm', role: 'alertdialog', 'aria-labelledby': 'cb-forget-h', 'aria-describedby': 'cb-forget-d',
      onclose: function () { (forgetting ? ui.input : ui.forgetBtn).focus(); } },
      [ui.forgetTitle, ui.forgetText, h('div', { class: 'row' }, [ui.forgetYes, ui.forgetNo])]);
    var head = [ui.title, ui.langBtn, ui.closeBtn];
    if (opts.logo) head.unshift(h('img', { class: 'logo', src: opts.logo, alt: '' }));
    ui.panel = h('div', { id: 'cb-panel', class: 'panel', role: 'dialog', 'aria-labelledby': 'cb-title', hidden: true, onkeydown: onPanelKey }, [
      h('div', { class: 'head' }, head),
      ui.langs, ui.about, ui.status, ui.log, ui.typing, ui.liveBar,
      h('form', { class: 'composer', onsubmit: onSubmit }, [ui.inputLabel, ui.input, ui.send]),
      ui.left,
      h('div', { class: 'tools' }, [ui.human, ui.aboutBtn, ui.forgetBtn, ui.privacy])
    ]);
    ui.launcher = h('button', { type: 'button', class: 'launcher', 'aria-expanded': 'false', 'aria-controls': 'cb-panel',
      onclick: function () { if (isOpen) close(true); else open(true); } }, [icon('chat'), icon('close')]);
    live = h('div', { class: 'sr', 'aria-live': 'polite', 'aria-atomic': 'true' });
    ui.wrap = h('div', { class: 'cb' + (opts.position === 'left' ? ' left' : '') }, [ui.panel, ui.launcher, ui.confirm, live]);
    root.appendChild(ui.wrap);
  }

  // applyTexts sets every fixed label in the interface language, and lang and dir for it.
  function applyTexts() {
    var d = rtl(lang) ? 'rtl' : 'ltr';
    ui.wrap.setAttribute('lang', tag(lang));
    ui.wrap.setAttribute('dir', d);
    ui.title.textContent = opts.title || t('ui.title');
    ui.langName.textContent = t('ui.endonym');
    ui.langBtn.setAttribute('aria-label', t('ui.language') + ': ' + t('ui.endonym'));
    ui.closeBtn.setAttribute('aria-label', t('ui.close'));
    ui.launcher.setAttribute('aria-label', isOpen ? t('ui.close') : t('ui.open'));
    ui.aboutTitle.textContent = t('ui.about_ai');
    ui.back.textContent = t('ui.back');
    ui.log.setAttribute('aria-label', t('ui.log'));
    updateTyping();
    showLive();
    ui.send.setAttribute('aria-label', t('ui.send'));
    ui.humanText.textContent = t('ui.human');
    ui.aboutBtnText.textContent = t('ui.about_ai');
    ui.forgetInfo.textContent = t('ui.forget_info');
    ui.forgetBtnText.textContent = t('ui.forget');
    ui.forgetTitle.textContent = t('ui.forget_title');
    ui.forgetText.textContent = t('ui.forget_text');
    ui.forgetYes.textContent = t('ui.forget_confirm');
    ui.forgetNo.textContent = t('ui.cancel');
    ui.privacy.textContent = t('ui.privacy');
    ui.privacy.appendChild(newWindowHint());
    ui.aboutLink.textContent = t('ui.privacy');
    ui.aboutLink.appendChild(newWindowHint());
    onInput();
    renderLangs();
  }
  function newWindowHint() { return h('span', { class: 'sr', text: ' (' + t('ui.new_window') + ')' }); }

  // Open and close. Focus moves into the panel when the citizen opens it, and back to the
  // launcher when they close it; opening on page load (data-open, or after a reload) leaves focus
  // where the page put it.
  var isOpen = false;
  function open(byUser) {
    isOpen = true;
    store.set('open', '1');
    ui.panel.hidden = false;
    ui.wrap.classList.add('open');
    ui.launcher.setAttribute('aria-expanded', 'true');
    ui.launcher.setAttribute('aria-label', t('ui.close'));
    if (!ws) connect();
    scrollDown();
    if (byUser) ui.input.focus();
  }
  function close(byUser) {
    isOpen = false;
    store.set('open', null);
    toggleLangs(false);
    ui.panel.hidden = true;
    ui.wrap.classList.remove('open');
    ui.launcher.setAttribute('aria-expanded', 'false');
    ui.launcher.setAttribute('aria-label', t('ui.open'));
    if (byUser) ui.launcher.focus();
  }
  var small = window.matchMedia('(max-width: 480px), (max-height: 560px)'); // as in app.css
  function focusables() {
    return Array.prototype.filter.call(ui.panel.querySelectorAll('button, a[href], textarea, input, [tabindex="0"]'), function (el) {
      return !el.disabled && el.offsetParent !== null;
    });
  }
  function onPanelKey(e) {
    if (e.key === 'Escape') {
      e.preventDefault();
      if (!ui.langs.hidden) { toggleLangs(false); ui.langBtn.focus(); } else if (!ui.about.hidden) hideAbout();
      else close(true);
      return;
    }
    // Full screen the panel hides the page, so Tab stays inside; on a large screen the panel is
    // non-modal and Tab goes on to the launcher and the page.
    if (e.key !== 'Tab' || !small.matches) return;
    var f = focusables(), first = f[0], last = f[f.length - 1], at = root.activeElement;
    if (e.shiftKey && at === first) { e.preventDefault(); last.focus(); } else if (!e.shiftKey && at === last) { e.preventDefault(); first.focus(); }
  }

  // The language menu: a button that shows a list of buttons, each language named in itself.
  var languages = TEXTS.languages;
  function renderLangs() {
    ui.langs.textContent = '';
    languages.forEach(function (l) {
      ui.langs.appendChild(h('li', {}, [h('button', { type: 'button', lang: tag(l), dir: rtl(l) ? 'rtl' : 'ltr',
        'aria-current': l === lang ? 'true' : null, text: t('ui.endonym', l), onclick: function () { switchLang(l); } })]));
    });
  }
  function toggleLangs(show) {
    if (typeof show !== 'boolean') show = ui.langs.hidden;
    ui.langs.hidden = !show;
    ui.langBtn.setAttribute('aria-expanded', String(show));
    if (show) ui.langs.querySelector('[aria-current]').focus();
  }
  function switchLang(l) {
    toggleLangs(false);
    ui.langBtn.focus();
    if (l === lang) return;
    lang = l;
    store.set('lang', l);
    applyTexts();
    reconnect(); // the server answers in the new language from the next welcome on
  }

  function showAbout() {
    ui.about.hidden = false;
    ui.log.hidden = true;
    ui.aboutTitle.focus();
  }
  function hideAbout() {
    ui.about.hidden = true;
    ui.log.hidden = false;
    ui.aboutBtn.focus();
  }

  // Deleting the conversation (the right to erase): confirmed first; the server erases it, says
  // forgotten and starts a new one.
  var forgetting = false, forgot = false, forgotShown = false;
  function askForget() {
    if (!ui.confirm.showModal) { // older browsers
      if (window.confirm(t('ui.forget_title') + ' ' + t('ui.forget_text'))) confirmForget();
      return;
    }
    ui.confirm.showModal();
    ui.forgetNo.focus();
  }
  function confirmForget() {
    forgetting = send({ type: 'forget' });
    if (ui.confirm.open) ui.confirm.close();
  }

  // The connection. It opens when the panel first opens; a lost one is retried with backoff
  // (sooner after close code 1001, a server restart) and resumed with the token, so nothing
  // said is lost.
  var ws = null, attempts = 0, retryTimer = 0, offline = false, welcome = null;
  function connect() {
    clearTimeout(retryTimer);
    var token = store.get('token');
    var url = WS_URL + '?lang=' + encodeURIComponent(lang) + (token ? '&resume=' + encodeURIComponent(token) : '');
    if (!welcome) setStatus(t('ui.connecting'));
    var sock = ws = new WebSocket(url);
    sock.onopen = function () { attempts = 0; };
    sock.onmessage = function (ev) {
      if (sock !== ws) return;
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (handlers[m.type]) handlers[m.type](m);
    };
    sock.onclose = function (ev) {
      if (sock !== ws) return; // replaced on purpose
      ws = null;
      lostPending();
      offline = true;
      setStatus(t('ui.offline'), true);
      announce(t('ui.offline'));
      var delay = ev.code === 1001 ? 500 : Math.min(30000, 1000 * Math.pow(2, attempts));
      attempts++;
      retryTimer = setTimeout(connect, delay * (0.75 + Math.random() / 2));
    };
  }
  function reconnect() {
    var old = ws;
    ws = null;
    if (old) old.close(1000);
    connect();
  }
  function send(msg) {
    if (!ws || ws.readyState !== 1) {
      announce(t('ui.offline'));
      setStatus(t('ui.offline'), true);
      return false;
    }
    ws.send(JSON.stringify(msg));
    return true;
  }
  window.addEventListener('online', function () { if (offline) reconnect(); });

  function setStatus(text, warn) {
    ui.status.hidden = !text;
    ui.status.className = 'status' + (warn ? '' : ' ok');
    ui.status.textContent = '';
    if (text) ui.status.append(icon(warn ? 'alert' : 'info'), text);
  }
  // announce puts text into the live region: screen readers read the new message alone.
  var announceTimer = 0;
  function announce(text) {
    clearTimeout(announceTimer);
    live.textContent = '';
    announceTimer = setTimeout(function () { live.textContent = text; }, 120);
  }

  // The conversation as shown. confirmed counts the entries of the server's history already in
  // the log, so a resume after a lost connection appends only what is new; a question still
  // waiting for its answer is pending until the reply confirms it.
  var confirmed = 0, seq = 0, pending = {}, answers = {}, streams = {}, shownConv = '', shownLang = '';
  var ticketSlot = null; // where the ticket form waits for ticket_created
  var expired = ''; // the invalid_token error, shown once the new conversation's log starts

  function safeURL(u) {
    try {
      var x = new URL(u);
      return x.protocol === 'https:' || x.protocol === 'http:' ? x.href : null;
    } catch (e) { return null; }
  }
  function link(url, text) {
    var u = safeURL(url);
    return u ? h('a', { href: u, target: '_blank', rel: 'noopener' }, [text, newWindowHint()]) : h('span', { text: text });
  }
  // box is a message: its own language and direction, with the sender named in the interface's
  // language, so neither colour nor position alone tells who speaks.
  function box(cls, l, d, who) {
    return h('div', { class: 'msg ' + cls, lang: tag(l), dir: d }, [
      h('p', { class: 'who', lang: tag(lang), dir: rtl(lang) ? 'rtl' : 'ltr', text: who })
    ]);
  }
  function chrome(el) { // an interface part inside a message of another language
    el.setAttribute('lang', tag(lang));
    el.setAttribute('dir', rtl(lang) ? 'rtl' : 'ltr');
    return el;
  }
  function add(el) {
    ui.log.appendChild(el);
    scrollDown();
    return el;
  }
  function scrollDown() { ui.log.scrollTop = ui.log.scrollHeight; }
  // The typing indicator: the assistant while a question waits for its answer (not a message to
  // a person: no answer from the assistant is coming), or the person while they type.
  function updateTyping() {
    var waiting = Object.keys(pending).some(function (id) { return !pending[id].toAgent; }) && Object.keys(streams).length === 0;
    var person = !waiting && liveMode === 'person' && agentTyping;
    ui.typingText.textContent = person ? tf('ui.person_typing', { Name: agentName || t('ui.from_person') }) : t('ui.typing');
    ui.typing.hidden = !waiting && !person;
    if (waiting || person) scrollDown();
  }

  function renderDisclosure() {
    var w = welcome;
    var el = box('note', w.lang, w.dir, w.title);
    el.appendChild(h('p', { class: 'text', text: w.disclosure }));
    el.appendChild(h('p', { class: 'text', text: w.privacy }));
    if (safeURL(w.privacy_url)) el.appendChild(h('p', {}, [link(w.privacy_url, t('ui.privacy'))]));
    return add(el);
  }
  // renderAsk shows a citizen's question; l is the language it was taken in, when known.
  function renderAsk(text, l) {
    var el = box('me', l || lang, l ? (rtl(l) ? 'rtl' : 'ltr') : 'auto', t('ui.you'));
    el.appendChild(h('p', { class: 'text', text: text }));
    return add(el);
  }
  function renderNote(cls, who, text) {
    var el = box(cls, lang, rtl(lang) ? 'rtl' : 'ltr', who);
    el.appendChild(h('p', { class: 'text', text: text }));
    return add(el);
  }
  // renderAgent shows a person's message: named as a person's, without the AI label, sources or
  // rating. Its accessible name says who wrote it.
  function renderAgent(m) {
    var who = (m.name ? m.name + ' – ' : '') + t('ui.from_person');
    var el = box('agent', m.lang || lang, m.dir || 'auto', who);
    var id = 'cb-p' + (++seq);
    el.firstChild.id = id;
    el.setAttribute('role', 'article');
    el.setAttribute('aria-labelledby', id);
    el.appendChild(h('p', { class: 'text', text: m.text || '' }));
    return add(el);
  }
  // renderSys shows a line of the service itself: a person joined or left, the assistant is back.
  function renderSys(text) {
    return add(h('div', { class: 'msg sys', lang: tag(lang), dir: rtl(lang) ? 'rtl' : 'ltr' }, [icon('info'), h('p', { class: 'text', text: text || '' })]));
  }
  // markSent notes on a citizen's message that it reached the person's side.
  function markSent(el) {
    if (el && !el.querySelector('.sent')) el.appendChild(h('p', { class: 'sent', lang: tag(lang), dir: rtl(lang) ? 'rtl' : 'ltr', text: t('ui.sent') }));
  }

  // renderReply builds an answer or handoff: its text with the composer's framing, its sources,
  // the AI label, for a handoff the ways to a person, and the rating control.
  function renderReply(m) {
    var l = supported(m.lang) ? m.lang : lang;
    var el = box('bot', l, m.dir || (rtl(l) ? 'rtl' : 'ltr'), t('ui.from_bot'));
    el.appendChild(h('p', { class: 'text', text: m.text || '' }));
    var sources = (m.sources || []).filter(function (s) { return safeURL(s.url); });
    if (sources.length) {
      el.appendChild(chrome(h('p', { class: 'sub', text: t('answer.sources') })));
      el.appendChild(h('ul', { class: 'sources' }, sources.map(function (s) {
        return h('li', {}, [link(s.url, s.title || s.url)]);
      })));
    }
    if (m.type === 'handoff') renderOptions(el, m);
    if (m.label) el.appendChild(h('p', { class: 'label', text: m.label }));
    if (m.id) el.appendChild(rating(m.id, m.rating));
    return el;
  }

  function renderOptions(el, m) {
    var opts = m.options || [];
    if (!opts.length) return;
    var slot = h('div');
    el.appendChild(chrome(h('p', { class: 'sub', text: t('handoff.options') })));
    el.appendChild(h('ul', { class: 'options' }, opts.map(function (o) {
      var act = null;
      if (o.kind === 'callback' || o.kind === 'email') act = function () { showForm(slot, o, this); };
      else if (o.kind === 'office' && m.contact) act = function () { showContact(slot, m.contact); };
      else if (o.kind === 'live') act = askLive;
      return h('li', {}, [act ? h('button', { type: 'button', onclick: act, text: o.label }) : h('span', { text: o.label })]);
    })));
    el.appendChild(slot);
  }

  function showContact(slot, c) {
    var d = h('div', { class: 'contact', tabindex: '-1' });
    if (c.office) d.appendChild(h('p', {}, [h('strong', { text: c.office })]));
    var tel = (c.phone || '').match(/^\+?[0-9][0-9 ()\/-]*/);
    if (c.phone) {
      d.appendChild(h('p', {}, [chrome(h('span', { text: t('ui.phone') + ': ' })),
        tel ? h('a', { href: 'tel:' + tel[0].replace(/[^+0-9]/g, ''), dir: 'ltr', text: c.phone }) : c.phone]));
    }
    if (c.email) {
      d.appendChild(h('p', {}, [chrome(h('span', { text: t('ui.email') + ': ' })), h('a', { href: 'mailto:' + c.email, dir: 'ltr', text: c.email })]));
    }
    if (c.hours) d.appendChild(h('p', {}, [chrome(h('span', { text: t('ui.hours') + ': ' })), c.hours]));
    if (safeURL(c.url)) d.appendChild(h('p', {}, [link(c.url, c.office || c.url)]));
    slot.textContent = '';
    slot.appendChild(d);
    d.focus();
  }

  // showForm asks for what a callback or e-mail request needs: a name (optional), the phone
  // number or e-mail address, and consent to store them.
  function showForm(slot, o, opener) {
    var id = 'cb-f' + (++seq), mail = o.kind === 'email';
    var name = h('input', { id: id + 'n', autocomplete: 'name', maxlength: '200' });
    var reach = h('input', { id: id + 'c', type: mail ? 'email' : 'tel', autocomplete: mail ? 'email' : 'tel', required: true, maxlength: '200' });
    var consent = h('input', { type: 'checkbox', required: true });
    var form = h('form', { class: 'form', 'aria-labelledby': id + 'h' }, [
      h('p', { id: id + 'h', class: 'sub', text: o.label }),
      h('label', { for: id + 'n', text: t('ui.name') + ' (' + t('ui.optional') + ')' }), name,
      h('label', { for: id + 'c', text: t(mail ? 'ui.email' : 'ui.phone') }), reach,
      h('label', { class: 'check' }, [consent, h('span', { text: t('ticket.consent') })]),
      h('div', { class: 'row' }, [
        h('button', { type: 'submit', text: t('ui.submit') }),
        h('button', { type: 'button', class: 'btn2', text: t('ui.cancel'), onclick: function () { slot.textContent = ''; opener.focus(); } })
      ])
    ]);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var msg = { type: 'ticket', kind: o.kind, name: name.value.trim(), consent: consent.checked };
      msg[mail ? 'email' : 'phone'] = reach.value.trim();
      if (send(msg)) ticketSlot = slot;
    });
    chrome(form);
    slot.textContent = '';
    slot.appendChild(form);
    name.focus();
  }

  // rating: thumbs up or down, then an optional comment; a second rating replaces the first.
  // given is the rating a resumed conversation's history reports.
  function rating(id, given) {
    var wrap = chrome(h('div')), form = null, value = given === 'up' || given === 'down' ? given : '', commented = false;
    var note = h('p', { class: 'rated', hidden: true });
    var up = h('button', { type: 'button', 'aria-pressed': 'false', 'aria-label': t('ui.rate_up') }, [icon('up')]);
    var down = h('button', { type: 'button', 'aria-pressed': 'false', 'aria-label': t('ui.rate_down') }, [icon('up', true)]);
    function choose(v) {
      if (!send({ type: 'rate', answer_id: id, value: v })) return;
      value = v;
      up.setAttribute('aria-pressed', String(v === 'up'));
      down.setAttribute('aria-pressed', String(v === 'down'));
      if (!form) wrap.insertBefore(form = commentForm(), note);
    }
    function commentForm() {
      var fid = 'cb-r' + (++seq);
      var text = h('textarea', { id: fid, maxlength: String(MAX_COMMENT), rows: '2' });
      var f = h('form', { class: 'form' }, [h('label', { for: fid, text: t('ui.comment') }), text,
        h('div', { class: 'row' }, [h('button', { type: 'submit', text: t('ui.comment_send') })])]);
      f.addEventListener('submit', function (e) {
        e.preventDefault();
        if (text.value.trim() && send({ type: 'rate', answer_id: id, value: value, comment: text.value.trim() })) commented = true;
      });
      return f;
    }
    up.setAttribute('aria-pressed', String(value === 'up'));
    down.setAttribute('aria-pressed', String(value === 'down'));
    up.addEventListener('click', function () { choose('up'); });
    down.addEventListener('click', function () { choose('down'); });
    wrap.appendChild(h('div', { class: 'rate', role: 'group', 'aria-label': t('ui.rate') }, [up, down]));
    wrap.appendChild(note);
    // rated shows the server's confirmation; after a comment the form has done its work.
    answers[id] = function (text) {
      note.textContent = text;
      note.hidden = false;
      if (commented && form) {
        var hadFocus = form.contains(root.activeElement);
        form.remove();
        form = null;
        if (hadFocus) (value === 'up' ? up : down).focus();
      }
    };
    return wrap;
  }

  // Server messages, by type.
  var handlers = {
    welcome: function (m) {
      welcome = m;
      if (m.resumed) forgetting = false; // a forget the server never got
      store.set('token', m.token);
      if (supported(m.lang) && m.lang !== lang) { lang = m.lang; applyTexts(); }
      languages = (m.languages || []).filter(supported);
      renderLangs();
      ui.aboutText.textContent = m.disclosure;
      ui.aboutPrivacy.textContent = m.privacy;
      [ui.privacy, ui.aboutLink].forEach(function (a) {
        var u = safeURL(m.privacy_url);
        a.hidden = !u;
        if (u) a.href = u;
      });
      if (offline) {
        offline = false;
        setStatus(t('ui.reconnected'));
        announce(t('ui.reconnected'));
        setTimeout(function () { if (!offline) setStatus(''); }, 4000);
      } else setStatus('');
      if (!m.resumed) setLive('', true); // a new conversation has no person in it
      // A new conversation, or another language: the log starts again (history follows a resume).
      if (!m.resumed || m.conversation_id !== shownConv || m.lang !== shownLang) {
        resetLog();
        shownConv = m.conversation_id;
        shownLang = m.lang;
        renderDisclosure();
        if (expired) renderNote('err', t('ui.error'), expired);
        if (!m.resumed) announce(m.title + '. ' + m.disclosure + (expired ? ' ' + expired : ''));
        expired = '';
      }
      if (forgot) { // the new conversation after a forget: say that the old one is gone, until the next question
        forgot = false;
        forgotShown = true;
        setStatus(t('ui.forgotten'));
        announce(t('ui.forgotten'));
      }
    },
    forgotten: function () {
      forgetting = false;
      forgot = true;
      store.set('token', null);
      resetLog();
      shownConv = '';
      ui.about.hidden = true;
      ui.log.hidden = false;
    },
    history: function (m) {
      // Questions the server never got go back into the input, so they are not lost.
      Object.keys(pending).forEach(function (id) {
        pending[id].el && pending[id].el.remove();
        if (pending[id].text && !ui.input.value) { ui.input.value = pending[id].text; onInput(); }
      });
      pending = {};
      updateTyping();
      var list = m.messages || [];
      list.slice(confirmed).forEach(function (s) {
        if (s.type === 'ask') {
          var el = renderAsk(s.text, supported(s.lang) ? s.lang : '');
          if (s.to === 'agent') markSent(el);
        } else if (s.type === 'answer' || s.type === 'handoff') add(renderReply(s));
        else if (s.type === 'agent_message') renderAgent(s);
        else if (s.type === 'agent_joined' || s.type === 'agent_left' || s.type === 'live_ended') renderSys(s.text);
      });
      confirmed = Math.max(confirmed, list.length);
      // A person is still in the chat when the last agent_joined has no agent_left or
      // live_ended after it. A wait in the queue is not in the history: queued follows it.
      var joined = null;
      list.forEach(function (s) {
        if (s.type === 'agent_joined') joined = s;
        else if (s.type === 'agent_left' || s.type === 'live_ended' || (s.type === 'handoff' && s.reason === 'no_agent')) joined = null;
      });
      if (joined) { agentName = joined.name || ''; setLive('person', true); } else if (liveMode === 'person') setLive('', true);
      else if (liveMode === 'queued') queueStale = setTimeout(function () { queueStale = 0; setLive('', true); }, 3000);
    },
    answer: reply,
    handoff: reply,
    answer_delta: function (m) {
      var el = streams[m.id];
      if (!el) {
        el = streams[m.id] = box('bot', lang, 'auto', t('ui.from_bot'));
        el.appendChild(h('p', { class: 'text' }));
        add(el);
        updateTyping();
      }
      el.lastChild.textContent += m.text || '';
      scrollDown();
    },
    rated: function (m) {
      if (answers[m.answer_id]) answers[m.answer_id](m.text);
      announce(m.text);
    },
    ticket_created: function (m) {
      if (ticketSlot) ticketSlot.textContent = '';
      ticketSlot = null;
      renderNote('note', t('ui.from_bot'), m.text || m.number);
      announce(m.text || m.number);
    },
    queued: function (m) {
      clearTimeout(queueStale); // still waiting after a resume
      queueStale = 0;
      var first = liveMode !== 'queued', was = queuePos;
      queuePos = m.position || 1;
      if (first) setLive('queued', true);
      else showLive();
      if (first || queuePos !== was) announceQueue(first || queuePos === 1);
    },
    agent_joined: function (m) {
      confirmed++;
      agentName = m.name || '';
      agentTyping = false;
      setLive('person');
      renderSys(m.text);
      announce(m.text);
    },
    agent_message: function (m) {
      confirmed++;
      if (m.name) agentName = m.name;
      agentTyping = false;
      clearTimeout(agentTypingTimer);
      updateTyping();
      renderAgent(m);
      announce((m.name ? m.name + ', ' : '') + t('ui.from_person') + ': ' + m.text);
    },
    agent_typing: function () {
      if (liveMode !== 'person') return;
      var burst = !agentTyping;
      agentTyping = true;
      clearTimeout(agentTypingTimer);
      agentTypingTimer = setTimeout(function () { agentTyping = false; updateTyping(); }, 4000);
      updateTyping();
      if (burst) announce(ui.typingText.textContent); // once a burst, not on every key
    },
    agent_left: liveOver,
    live_ended: liveOver,
    sent: function (m) {
      var p = pending[m.reply_to];
      if (!p) return;
      delete pending[m.reply_to];
      confirmed++;
      markSent(p.el);
      updateTyping();
    },
    error: function (m) {
      if (m.code === 'invalid_token') { // a new conversation follows: say so after its disclosure
        store.set('token', null);
        if (forgetting) forgot = true; // the forgotten conversation, after a lost connection
        else expired = m.message;
        forgetting = false;
        return;
      }
      // An error names the question it answers; without one (a rate limit, a failed forget)
      // nothing is coming.
      var p = m.reply_to ? pending[m.reply_to] : null;
      if (p) delete pending[m.reply_to];
      else if (!m.reply_to) { pending = {}; forgetting = false; asked = false; ending = false; }
      updateTyping();
      var note = renderNote('err', t('ui.error'), m.message);
      // The database was away: the question was not taken, and can be sent again from here.
      if (m.code === 'unavailable' && p && p.text) { note.appendChild(resendRow(p)); scrollDown(); }
      announce(t('ui.error') + ': ' + m.message);
    }
  };

  function reply(m) {
    if (m.type === 'handoff' && m.reason === 'no_agent') setLive('', true); // the wait is over: other ways follow
    if (m.reply_to && pending[m.reply_to]) {
      delete pending[m.reply_to];
      confirmed++;
    }
    if (!m.reply_to) delete pending.human;
    confirmed++;
    var el = renderReply(m);
    if (streams[m.id]) {
      streams[m.id].replaceWith(el);
      delete streams[m.id];
    } else add(el);
    updateTyping();
    scrollDown();
    announce(t('ui.from_bot') + ': ' + m.text);
  }

  function resetLog() {
    ui.log.textContent = '';
    confirmed = 0;
    pending = {};
    answers = {};
    streams = {};
    ticketSlot = null;
    updateTyping();
  }
  // lostPending: on a lost connection no reply is coming; the resume's history tells what the
  // server kept.
  function lostPending() {
    Object.keys(streams).forEach(function (id) { streams[id].remove(); });
    streams = {};
    delete pending.human;
    asked = false; // no queued or live_ended is coming on this connection
    ending = false;
    updateTyping();
    ui.typing.hidden = true;
  }

  // The composer: Enter sends, Shift+Enter breaks the line; the protocol's limit is the input's.
  function onInput(e) {
    if (e) sendTyping();
    var left = MAX_TEXT - ui.input.value.length;
    ui.left.textContent = t('ui.chars_left').replace('{{.Count}}', count(left));
    ui.input.style.height = 'auto';
    ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 140) + 'px';
  }
  function onInputKey(e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      ui.send.click();
    }
  }
  function onSubmit(e) {
    e.preventDefault();
    var text = ui.input.value.trim();
    if (!text) return;
    if (!sendAsk(text)) return;
    typedAt = 0;
    ui.input.value = '';
    onInput();
  }
  // sendAsk sends a question as a new ask; el is its message in the log when it is already
  // there (a question sent again), else it is added.
  function sendAsk(text, el) {
    var id = 'c' + (++seq);
    if (!send({ type: 'ask', id: id, text: text })) return false;
    if (forgotShown) { forgotShown = false; setStatus(''); }
    pending[id] = { el: el || renderAsk(text), text: text, toAgent: !!liveMode };
    updateTyping();
    return true;
  }
  // resendRow is the button under an unavailable error that sends the question p again: a new
  // ask with the same text, answered like any other. It goes once used (focus to the composer);
  // should the database still be away, the next error brings its own button.
  function resendRow(p) {
    var q = p.el && p.el.querySelector('.text');
    if (q && !q.id) q.id = 'cb-m' + (++seq);
    var row = h('div', { class: 'row' });
    var btn = h('button', { type: 'button', class: 'btn2 resend', text: t('ui.resend'), 'aria-describedby': q ? q.id : null,
      onclick: function () {
        var had = root.activeElement === btn;
        if (!sendAsk(p.text, p.el && p.el.isConnected ? p.el : null)) return;
        row.remove();
        if (had) ui.input.focus();
      } });
    row.appendChild(btn);
    return row;
  }
  function askHuman() {
    if (send({ type: 'handoff', reason: 'user_request' })) {
      pending.human = {};
      updateTyping();
    }
  }

  // The live chat with a person (docs/protocol.md, "Live chat with a person"). liveMode is ''
  // (the assistant answers), 'queued' (waiting for a person) or 'person' (a person writes).
  var liveMode = '', agentName = '', queuePos = 0, agentTyping = false, agentTypingTimer = 0;
  var queueStale = 0, queueSaid = 0, queueTimer = 0, typedAt = 0, asked = false, ending = false;
  function askLive() {
    if (liveMode) { ui.liveBtn.focus(); return; } // already waiting or talking
    if (!asked && send({ type: 'live' })) asked = true;
  }
  function endLive() {
    if (!ending && send({ type: 'live_end' })) ending = true;
  }
  // setLive switches the mode; quiet leaves the announcement to the caller (or to no one, when a
  // resume restores the mode).
  function setLive(mode, quiet) {
    clearTimeout(queueStale);
    queueStale = 0;
    asked = false;
    ending = false;
    if (mode !== 'queued') { queuePos = 0; clearTimeout(queueTimer); }
    if (mode !== 'person') { agentTyping = false; clearTimeout(agentTypingTimer); }
    if (!mode) agentName = '';
    var had = ui.liveBar.contains(root.activeElement);
    liveMode = mode;
    showLive();
    updateTyping();
    if (!mode && had) ui.input.focus(); // the bar is gone with its button
    if (!quiet && mode === 'queued') announceQueue(true);
  }
  // showLive shows the mode: the bar above the composer, and the composer's words (a message to a
  // person, not a question to the assistant).
  function showLive() {
    ui.liveBar.hidden = !liveMode;
    ui.liveBar.className = 'livebar' + (liveMode === 'person' ? ' person' : '');
    ui.human.hidden = !!liveMode;
    if (liveMode === 'queued') {
      ui.liveText.textContent = tf('ui.queued', { Position: count(queuePos || 1) });
      ui.liveBtn.textContent = t('ui.queue_leave');
    } else if (liveMode === 'person') {
      ui.liveText.textContent = tf('ui.with_person', { Name: agentName || t('ui.from_person') });
      ui.liveBtn.textContent = t('ui.live_end');
    }
    ui.inputLabel.textContent = t(liveMode ? 'ui.input_person' : 'ui.input');
    ui.input.setAttribute('placeholder', t(liveMode ? 'ui.placeholder_person' : 'ui.placeholder'));
  }
  // announceQueue says the place in the queue: at once when the wait begins and when the citizen
  // is next, otherwise at most every 15 seconds, with the latest place.
  function announceQueue(now) {
    clearTimeout(queueTimer);
    var wait = now ? 0 : Math.max(0, queueSaid + 15000 - Date.now());
    queueTimer = setTimeout(function () {
      if (liveMode !== 'queued') return;
      queueSaid = Date.now();
      announce(ui.liveText.textContent);
    }, wait);
  }
  // liveOver: the person left, or the citizen ended the chat; the server's text says that the
  // assistant, an AI system, answers again.
  function liveOver(m) {
    confirmed++;
    renderSys(m.text);
    setLive('', true);
    announce(m.text);
  }
  // typing tells the person that the citizen is typing, at most every 3 seconds.
  function sendTyping() {
    if (liveMode !== 'person' || !ui.input.value.trim() || Date.now() - typedAt < 3000) return;
    if (ws && ws.readyState === 1) {
      ws.send(JSON.stringify({ type: 'typing' }));
      typedAt = Date.now();
    }
  }

  function addStyle(css) {
    if (root.adoptedStyleSheets && 'replaceSync' in CSSStyleSheet.prototype) {
      var s = new CSSStyleSheet();
      s.replaceSync(css);
      root.adoptedStyleSheets = root.adoptedStyleSheets.concat(s);
    } else { // older browsers; needs style-src 'unsafe-inline' under a strict policy
      root.appendChild(h('style', { text: css }));
    }
  }

  function start() {
    build();
    addStyle(CSS);
    document.body.appendChild(hostEl);
    if (opts.color) {
      var probe = root.appendChild(h('span'));
      var rgb = parseColor(opts.color, probe);
      probe.remove();
      if (rgb) addStyle(theme(rgb));
    }
    applyTexts();
    if (opts.open === 'true' || store.get('open')) open(false);
  }
  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start);
})();

// The agent's live chat: the queue of citizens waiting for a person, and the agent's
// conversations, over the staff WebSocket (console/live.go). Plain script, no build step.
(function () {
  'use strict';
  var root = document.getElementById('live');
  if (!root) return;
  var T = JSON.parse(document.getElementById('live-texts').textContent) || {};
  var quick = JSON.parse(document.getElementById('live-quick').textContent) || [];
  var onlineBox = document.getElementById('online');
  var nameField = document.getElementById('agent-name');
  var conn = document.getElementById('conn');
  var queueList = document.getElementById('queue');
  var queueEmpty = document.getElementById('queue-empty');
  var chatsBox = document.getElementById('chats');
  var chatsEmpty = document.getElementById('chats-empty');
  var announcer = document.getElementById('announce');
  var ws = null, retry = 0, waiting = {}, chats = {};

  function h(tag, attrs, kids) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') el.textContent = attrs[k];
      else if (k === 'on') Object.keys(attrs.on).forEach(function (ev) { el.addEventListener(ev, attrs.on[ev]); });
      else el.setAttribute(k, attrs[k]);
    });
    (kids || []).forEach(function (k) { if (k) el.appendChild(k); });
    return el;
  }

  function announce(text) {
    announcer.textContent = '';
    setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function send(m) {
    if (ws && ws.readyState === 1) ws.send(JSON.stringify(m));
  }

  function connect() {
    var proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = new WebSocket(proto + '//' + location.host + root.getAttribute('data-ws'));
    ws.onopen = function () { retry = 0; conn.textContent = ''; };
    ws.onmessage = function (ev) { handle(JSON.parse(ev.data)); };
    ws.onclose = function (ev) {
      if (ev.code === 1008) { location.href = '/console/login'; return; } // signed out
      conn.textContent = T.disconnected;
      setTimeout(connect, Math.min(1000 * Math.pow(2, retry++), 15000));
    };
  }

  function time(iso) {
    var d = new Date(iso);
    return ('0' + d.getHours()).slice(-2) + ':' + ('0' + d.getMinutes()).slice(-2);
  }

  // line renders one stored message of a conversation: the citizen's, the assistant's, the
  // desk's.
  function line(l) {
    var b = l.body || {}, li = h('li', { 'data-id': String(l.id) });
    if (l.role === 'citizen') {
      li.appendChild(h('span', { class: 'who', text: T.citizen + ': ' }));
      li.appendChild(h('span', { text: b.text || '', lang: b.lang || '' }));
    } else if (l.role === 'bot') {
      li.appendChild(h('span', { class: 'who', text: T.bot + ': ' }));
      li.appendChild(h('span', { text: b.text || '', lang: b.lang || '' }));
      if (b.sources && b.sources.length) {
        li.appendChild(h('span', { class: 'mt', text: T.sources + ':' }));
        var ul = h('ul');
        b.sources.forEach(function (s) { ul.appendChild(h('li', {}, [h('a', { href: s.url, target: '_blank', rel: 'noopener', text: s.title || s.url })])); });
        li.appendChild(ul);
      }
    } else if (b.type === 'agent_message') {
      li.appendChild(h('span', { class: 'who', text: (b.name || T.you) + ': ' }));
      li.appendChild(h('span', { text: b.text || '' }));
    } else {
      var what = { agent_joined: T.livejoined + ': ' + (b.name || ''), agent_left: T.chatended, live_ended: T.chatended }[b.type];
      if (!what) return null;
      li.className = 'sys';
      li.textContent = what;
    }
    return li;
  }

  function renderQueue(list) {
    list = list || [];
    var before = Object.keys(waiting).length, fresh = false, now = {};
    queueList.textContent = '';
    list.forEach(function (c) {
      if (!waiting[c.chat]) fresh = true;
      now[c.chat] = true;
      var log = h('ul', { class: 'log' });
      (c.lines || []).forEach(function (l) { var li = line(l); if (li) log.appendChild(li); });
      var id = 'q-' + c.chat;
      queueList.appendChild(h('li', {}, [
        h('h3', { id: id, text: T.citizen + ' (' + T.language + ': ' + c.lang + ') – ' + T.waiting + ' ' + time(c.since) }),
        c.question ? h('p', { text: c.question, lang: c.lang }) : null,
        h('details', {}, [h('summary', { text: T.conversation }), log]),
        h('button', { type: 'button', 'aria-describedby': id, text: T.accept, on: { click: function () { send({ type: 'accept', chat: c.chat }); } } })
      ]));
    });
    waiting = now;
    queueEmpty.hidden = list.length > 0;
    if (fresh && list.length > before && onlineBox.checked) notify(list.length);
  }

  // notify tells an available agent that someone waits: a sound, a browser notification when
  // the page is not in view, and the screen reader.
  function notify(n) {
    announce(T.newwaiting + ' (' + n + ')');
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (Ctx) {
        var a = new Ctx(), o = a.createOscillator(), g = a.createGain();
        o.frequency.value = 880; g.gain.value = 0.1;
        o.connect(g); g.connect(a.destination);
        o.start(); o.stop(a.currentTime + 0.2);
      }
    } catch (e) { /* no sound: the announcement and the list remain */ }
    if (document.hidden && window.Notification && Notification.permission === 'granted') {
      new Notification(T.live, { body: T.newwaiting });
    }
  }

  function addChat(c) {
    if (chats[c.chat]) chats[c.chat].el.remove();
    var id = 'c-' + c.chat, log = h('ul');
    var box = h('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-labelledby': id + '-h', tabindex: '0' }, [log]);
    (c.lines || []).forEach(function (l) { var li = line(l); if (li) log.appendChild(li); });
    var typing = h('p', { class: 'typing', 'aria-live': 'polite' });
    var field = h('input', { type: 'text', id: id + '-m', maxlength: '4000', autocomplete: 'off' });
    var lastTyping = 0;
    field.addEventListener('input', function () {
      var t = Date.now();
      if (t - lastTyping > 3000) { lastTyping = t; send({ type: 'typing', chat: c.chat }); }
    });
    var form = h('form', { on: { submit: function (ev) {
      ev.preventDefault();
      var text = field.value.trim();
      if (!text) return;
      send({ type: 'message', chat: c.chat, text: text });
      field.value = '';
    } } }, [
      h('label', { for: id + '-m', text: T.message }), field,
      h('button', { type: 'submit', text: T.sendmsg })
    ]);
    var extra = [];
    if (quick.length) {
      var sel = h('select', { id: id + '-q' }, quick.map(function (q) { return h('option', { value: q.Body, text: q.Title }); }));
      extra.push(h('label', { for: id + '-q', text: T.quicktext }), sel,
        h('button', { type: 'button', text: T.insert, on: { click: function () { field.value = sel.value; field.focus(); } } }));
    }
    var el = h('section', { class: 'chat', 'aria-labelledby': id + '-h' }, [
      h('h3', { id: id + '-h', text: T.citizen + ' (' + T.language + ': ' + c.lang + ')' }),
      c.question ? h('p', { text: c.question, lang: c.lang }) : null,
      box, typing, form,
      h('p', {}, extra.concat([
        h('button', { type: 'button', text: T.handback, on: { click: function () { send({ type: 'release', chat: c.chat, reason: 'handed_back' }); } } }),
        document.createTextNode(' '),
        h('button', { type: 'button', text: T.endchat, on: { click: function () { send({ type: 'release', chat: c.chat, reason: 'ended' }); } } })
      ]))
    ]);
    chatsBox.appendChild(el);
    chats[c.chat] = { el: el, log: log, box: box, typing: typing, field: field, lang: c.lang };
    chatsEmpty.hidden = true;
    box.scrollTop = box.scrollHeight;
    return chats[c.chat];
  }

  function closeChat(id) {
    var c = chats[id];
    if (!c) return;
    c.el.classList.add('ended');
    c.el.querySelectorAll('input, button, select').forEach(function (x) { x.disabled = true; });
    c.log.appendChild(h('li', { class: 'sys', text: T.chatended }));
    announce(T.chatended);
    delete chats[id];
    setTimeout(function () {
      c.el.remove();
      chatsEmpty.hidden = Object.keys(chats).length > 0;
    }, 8000);
  }

  function handle(m) {
    var c = chats[m.chat];
    switch (m.type) {
      case 'state':
        onlineBox.checked = !!m.online;
        if (m.name) nameField.value = m.name;
        chatsBox.textContent = ''; chats = {};
        (m.chats || []).forEach(addChat);
        chatsEmpty.hidden = (m.chats || []).length > 0;
        renderQueue(m.queue);
        break;
      case 'presence':
        onlineBox.checked = !!m.online;
        nameField.value = m.name || nameField.value;
        break;
      case 'queue':
        renderQueue(m.queue);
        break;
      case 'joined':
        c = addChat(m.joined);
        c.field.focus();
        break;
      case 'line':
        if (!c) return;
        var li = line(m.line);
        if (li) { c.log.appendChild(li); c.box.scrollTop = c.box.scrollHeight; }
        c.typing.textContent = '';
        break;
      case 'translation':
        if (!c) return;
        var target = c.log.querySelector('li[data-id="' + m.line.id + '"]');
        if (target) target.appendChild(h('span', { class: 'mt', lang: document.documentElement.lang, text: T.translation + ' (' + m.from + '): ' + m.text }));
        break;
      case 'typing':
        if (!c) return;
        c.typing.textContent = T.citizen + ' ' + T.typing;
        clearTimeout(c.typingTimer);
        c.typingTimer = setTimeout(function () { c.typing.textContent = ''; }, 4000);
        break;
      case 'closed':
        closeChat(m.chat);
        break;
      case 'error':
        announce(m.message);
        conn.textContent = m.message;
        break;
    }
  }

  function presence() {
    if (onlineBox.checked && window.Notification && Notification.permission === 'default') Notification.requestPermission();
    send({ type: 'presence', online: onlineBox.checked, name: nameField.value });
  }
  onlineBox.addEventListener('change', presence);
  nameField.addEventListener('change', presence);
  connect();
})();

/*
 * The /softphone demo and test page: sign in with an agent token, fetch GET /api/softphone/config, register
 * the softphone (softphone.js) and drive it with buttons. The agent desktop does the same with its session.
 */
(function () {
  'use strict';
  var LABELS = {
    en: {title: 'Softphone', language: 'Language', signin: 'Sign in', token: 'Agent API token',
         connect: 'Start softphone', phone: 'Phone', microphone: 'Microphone', registration: 'Registration',
         answer: 'Answer', hangup: 'Hang up', mute: 'Mute', hold: 'Hold', auto: 'Answer ACD calls automatically',
         signin_failed: 'Sign-in failed: {reason}', ready: 'ready', denied: 'refused', absent: 'not found',
         failed: 'error', unknown: '—', registered: 'registered', connecting: 'connecting…',
         unregistered: 'not registered'},
    ru: {title: 'Софтфон', language: 'Язык', signin: 'Вход', token: 'API-токен оператора',
         connect: 'Включить софтфон', phone: 'Телефон', microphone: 'Микрофон', registration: 'Регистрация',
         answer: 'Ответить', hangup: 'Положить трубку', mute: 'Без звука', hold: 'Удержание',
         auto: 'Отвечать на звонки ACD автоматически', signin_failed: 'Вход не удался: {reason}',
         ready: 'готов', denied: 'запрещён', absent: 'не найден', failed: 'ошибка', unknown: '—',
         registered: 'зарегистрирован', connecting: 'подключение…', unregistered: 'не зарегистрирован'},
    kk: {title: 'Софтфон', language: 'Тіл', signin: 'Кіру', token: 'Оператордың API токені',
         connect: 'Софтфонды қосу', phone: 'Телефон', microphone: 'Микрофон', registration: 'Тіркелу',
         answer: 'Жауап беру', hangup: 'Тұтқаны қою', mute: 'Дыбысты өшіру', hold: 'Күттіру',
         auto: 'ACD қоңырауларына автоматты жауап беру', signin_failed: 'Кіру сәтсіз: {reason}',
         ready: 'дайын', denied: 'рұқсат жоқ', absent: 'табылмады', failed: 'қате', unknown: '—',
         registered: 'тіркелді', connecting: 'қосылуда…', unregistered: 'тіркелмеген'}
  };
  var $ = function (id) { return document.getElementById(id); };
  var lang = 'en';
  var phone = null;

  function label(key, params) {
    var text = (LABELS[lang] || LABELS.en)[key] || key;
    return text.replace(/\{(\w+)\}/g, function (_, k) { return (params || {})[k] || ''; });
  }
  function applyLabels() {
    document.documentElement.lang = lang;
    document.querySelectorAll('[data-i18n]').forEach(function (el) { el.textContent = label(el.dataset.i18n); });
    if (phone) { phone.setLang(lang); } else { $('sp-status').textContent = AcdSoftphone.message('unregistered', lang); }
  }
  function showError(text) {
    $('sp-error').textContent = text || '';
    $('sp-error').hidden = !text;
  }
  function render(state) {
    var status = $('sp-status');
    status.textContent = state.error ? AcdSoftphone.message(state.registration === 'registered' ? 'registered' : 'not_registered', lang) : state.message;
    status.dataset.state = state.registration;
    showError(state.error ? state.error.message : '');
    document.body.dataset.error = state.error ? state.error.code : '';
    $('sp-mic').textContent = label(state.microphone);
    $('sp-reg').textContent = label(state.registration);
    var inCall = state.call === 'active';
    $('sp-answer').disabled = state.call !== 'ringing';
    $('sp-hangup').disabled = state.call === 'idle';
    $('sp-mute').disabled = !inCall;
    $('sp-hold').disabled = !inCall;
    $('sp-mute').setAttribute('aria-pressed', String(state.muted));
    $('sp-hold').setAttribute('aria-pressed', String(state.held));
    document.querySelectorAll('.sp-keypad button').forEach(function (b) { b.disabled = !inCall; });
  }

  function start(token) {
    showError('');
    fetch('/api/softphone/config', {headers: {Authorization: 'Bearer ' + token}, cache: 'no-store'})
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(body && body.error ? body.error : String(r.status));
          return body;
        });
      })
      .then(function (conf) {
        if (phone) phone.unregister();
        $('sp-who').textContent = conf.display_name + ' · ' + conf.sip_uri;
        $('sp-auto').checked = !!conf.auto_answer;
        phone = AcdSoftphone.create({
          wsUrl: conf.ws_url, sipUri: conf.sip_uri, password: conf.password,
          authorizationUser: conf.authorization_user, displayName: conf.display_name, lang: lang,
          autoAnswer: !!conf.auto_answer, iceServers: conf.ice_servers,
          registerTimeoutMs: Math.round((conf.register_timeout_s || 15) * 1000),
          audioElement: $('sp-audio'), onState: render
        });
        return phone.register();
      })
      .catch(function (err) { showError(label('signin_failed', {reason: err.message})); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('sp-lang').addEventListener('change', function (e) { lang = e.target.value; applyLabels(); });
    $('sp-signin').addEventListener('submit', function (e) { e.preventDefault(); start($('sp-token').value); });
    $('sp-auto').addEventListener('change', function (e) { phone && phone.setAutoAnswer(e.target.checked); });
    $('sp-answer').addEventListener('click', function () { phone && phone.answer(); });
    $('sp-hangup').addEventListener('click', function () { phone && phone.hangup(); });
    $('sp-mute').addEventListener('click', function () { phone && phone.mute(!phone.state.muted); });
    $('sp-hold').addEventListener('click', function () { phone && phone.hold(!phone.state.held); });
    document.querySelectorAll('.sp-keypad button').forEach(function (b) {
      b.addEventListener('click', function () { phone && phone.sendDtmf(b.textContent); });
    });
    document.addEventListener('keydown', function (e) {
      if (!phone || e.target.tagName === 'INPUT') return;
      if (e.key === 'Enter' && e.ctrlKey) phone.answer();
      if (e.key === 'Escape' && e.ctrlKey) phone.hangup();
    });
    applyLabels();
  });
})();

/*
 * acd browser softphone: SIP over WebSocket + WebRTC on top of the vendored JsSIP (vendor/jssip/).
 *
 * Include it with one tag; it loads JsSIP itself from the folder next to it:
 *   <script src="/softphone/static/softphone.js"></script>
 *
 * API (window.AcdSoftphone):
 *   const phone = AcdSoftphone.create({
 *     wsUrl, sipUri, password,            // required: wss://pbx:8089/ws, sip:agent1@pbx, secret
 *     authorizationUser, displayName,     // optional
 *     lang: 'kk' | 'ru' | 'en',           // language of the messages (default 'en')
 *     autoAnswer: false,                  // answer calls the ACD marks (X-ACD-Call header) at once
 *     iceServers: [],                     // e.g. ['stun:stun.example.kz:3478']
 *     registerTimeoutMs: 15000,           // then a clear time-out error
 *     iceGatheringMs: 1000,               // answer this long after the first ICE candidate at the latest
 *     audioElement,                       // an <audio> for the caller's voice (one is created if absent)
 *     onState(state), onIncoming(call), onError(error)
 *   });
 *   await phone.checkMicrophone();   // -> true / false (and onError)
 *   await phone.register();          // -> true when registered, false on an error (and onError)
 *   phone.unregister(); phone.answer(); phone.hangup(); phone.mute(true); phone.hold(true);
 *   phone.sendDtmf('5'); phone.setLang('kk'); phone.setAutoAnswer(true);
 *   phone.state                      // a copy of the state below
 *
 * state = {registration: 'unregistered'|'connecting'|'registered'|'failed',
 *          microphone: 'unknown'|'ready'|'denied'|'absent'|'failed',
 *          call: 'idle'|'ringing'|'connecting'|'active', muted, held, remote: {user, name}|null,
 *          acdCall: bool, acdCallId: string|null (the X-ACD-Call header: the ACD's call id),
 *          error: {code, message, params}|null, message}
 * error = {code, message, params}: code is stable (tests and the desktop match on it), message is in `lang`.
 * AcdSoftphone.message(code, lang, params) and AcdSoftphone.MESSAGES give the catalogue.
 */
(function (global) {
  'use strict';

  var SCRIPT = global.document && global.document.currentScript;
  var BASE = SCRIPT && SCRIPT.src ? SCRIPT.src : (global.location ? global.location.href : '');
  var JSSIP_URL = new URL('vendor/jssip/jssip.min.js', BASE).href;

  var MESSAGES = {
    en: {
      unregistered: 'Softphone off',
      microphone: 'Asking for the microphone…',
      microphone_ready: 'Microphone ready',
      connecting: 'Connecting to the phone server…',
      registering: 'Registering…',
      registered: 'Registered: ready for calls',
      ringing: 'Incoming call from {from}',
      call_connecting: 'Connecting the call…',
      active: 'On a call with {from}',
      held: 'Call on hold',
      ended: 'Call ended',
      config_invalid: 'The softphone settings are incomplete or wrong ({detail}). Ask your administrator.',
      library_failed: 'The softphone could not load its SIP library. Reload the page; if it persists, ask your administrator.',
      insecure_context: 'The browser allows the microphone only on a secure (https://) page. Open the desktop over https.',
      microphone_unsupported: 'This browser cannot use a microphone. Use a current Chrome, Edge or Firefox.',
      microphone_denied: 'Microphone access was refused. Allow the microphone for this site in the browser (the icon left of the address), then try again.',
      microphone_absent: 'No microphone found. Plug in a headset and try again.',
      microphone_busy: 'The microphone is in use by another program or cannot be opened. Close the other program and try again.',
      microphone_failed: 'The microphone could not be opened ({detail}).',
      websocket_failed: 'Cannot connect to the phone server at {url}. Check the network; if it persists, ask your administrator (WebSocket, TLS certificate).',
      websocket_timeout: 'The phone server at {url} does not answer. Check the network or ask your administrator.',
      connection_lost: 'Connection to the phone server lost; reconnecting…',
      auth_rejected: 'The phone server refused the SIP user name or password (401). Ask your administrator to check your softphone account.',
      forbidden: 'The phone server does not allow this softphone to register ({status}). Ask your administrator.',
      unknown_account: 'The phone server does not know this SIP account (404). Ask your administrator.',
      registrar_timeout: 'The phone server did not answer the registration in time. Try again; if it persists, ask your administrator.',
      registration_failed: 'Registration failed: {status} {reason}.',
      call_failed: 'The call failed: {reason}.',
      not_registered: 'The softphone is not registered.',
      no_call: 'There is no call to do this with.'
    },
    ru: {
      unregistered: 'Софтфон выключен',
      microphone: 'Запрашиваем микрофон…',
      microphone_ready: 'Микрофон готов',
      connecting: 'Подключение к телефонному серверу…',
      registering: 'Регистрация…',
      registered: 'Зарегистрирован: готов принимать звонки',
      ringing: 'Входящий звонок от {from}',
      call_connecting: 'Соединяем…',
      active: 'Разговор с {from}',
      held: 'Звонок на удержании',
      ended: 'Звонок завершён',
      config_invalid: 'Настройки софтфона неполны или неверны ({detail}). Обратитесь к администратору.',
      library_failed: 'Софтфон не смог загрузить библиотеку SIP. Обновите страницу; если не поможет, обратитесь к администратору.',
      insecure_context: 'Браузер даёт доступ к микрофону только на защищённой странице (https://). Откройте рабочее место по https.',
      microphone_unsupported: 'Этот браузер не умеет работать с микрофоном. Используйте актуальный Chrome, Edge или Firefox.',
      microphone_denied: 'Доступ к микрофону запрещён. Разрешите микрофон для этого сайта в браузере (значок слева от адреса) и попробуйте снова.',
      microphone_absent: 'Микрофон не найден. Подключите гарнитуру и попробуйте снова.',
      microphone_busy: 'Микрофон занят другой программой или не открывается. Закройте её и попробуйте снова.',
      microphone_failed: 'Не удалось открыть микрофон ({detail}).',
      websocket_failed: 'Нет соединения с телефонным сервером {url}. Проверьте сеть; если не поможет, обратитесь к администратору (WebSocket, сертификат TLS).',
      websocket_timeout: 'Телефонный сервер {url} не отвечает. Проверьте сеть или обратитесь к администратору.',
      connection_lost: 'Связь с телефонным сервером потеряна; переподключаемся…',
      auth_rejected: 'Телефонный сервер отклонил имя пользователя SIP или пароль (401). Попросите администратора проверить учётную запись софтфона.',
      forbidden: 'Телефонный сервер не разрешает регистрацию этого софтфона ({status}). Обратитесь к администратору.',
      unknown_account: 'Телефонный сервер не знает эту учётную запись SIP (404). Обратитесь к администратору.',
      registrar_timeout: 'Телефонный сервер не ответил на регистрацию вовремя. Попробуйте снова; если не поможет, обратитесь к администратору.',
      registration_failed: 'Регистрация не удалась: {status} {reason}.',
      call_failed: 'Звонок не удался: {reason}.',
      not_registered: 'Софтфон не зарегистрирован.',
      no_call: 'Нет звонка для этого действия.'
    },
    kk: {
      unregistered: 'Софтфон өшірулі',
      microphone: 'Микрофонға рұқсат сұралуда…',
      microphone_ready: 'Микрофон дайын',
      connecting: 'Телефон серверіне қосылуда…',
      registering: 'Тіркелуде…',
      registered: 'Тіркелді: қоңырау қабылдауға дайын',
      ringing: '{from} қоңырау шалып тұр',
      call_connecting: 'Қосылуда…',
      active: '{from} екеуіңіз сөйлесіп жатырсыздар',
      held: 'Қоңырау күтуде',
      ended: 'Қоңырау аяқталды',
      config_invalid: 'Софтфон баптаулары толық емес немесе қате ({detail}). Әкімшіге хабарласыңыз.',
      library_failed: 'Софтфон SIP кітапханасын жүктей алмады. Бетті жаңартыңыз; көмектеспесе, әкімшіге хабарласыңыз.',
      insecure_context: 'Браузер микрофонды тек қорғалған бетте (https://) береді. Жұмыс орнын https арқылы ашыңыз.',
      microphone_unsupported: 'Бұл браузер микрофонмен жұмыс істей алмайды. Chrome, Edge немесе Firefox-тың жаңа нұсқасын қолданыңыз.',
      microphone_denied: 'Микрофонға рұқсат берілмеді. Браузерде осы сайтқа микрофонды рұқсат етіңіз (мекенжайдың сол жағындағы белгі), сосын қайталаңыз.',
      microphone_absent: 'Микрофон табылмады. Гарнитураны қосып, қайталаңыз.',
      microphone_busy: 'Микрофонды басқа бағдарлама қолданып тұр немесе ол ашылмайды. Ол бағдарламаны жауып, қайталаңыз.',
      microphone_failed: 'Микрофон ашылмады ({detail}).',
      websocket_failed: '{url} телефон серверіне қосылу мүмкін емес. Желіні тексеріңіз; көмектеспесе, әкімшіге хабарласыңыз (WebSocket, TLS сертификаты).',
      websocket_timeout: '{url} телефон сервері жауап бермейді. Желіні тексеріңіз немесе әкімшіге хабарласыңыз.',
      connection_lost: 'Телефон серверімен байланыс үзілді; қайта қосылуда…',
      auth_rejected: 'Телефон сервері SIP пайдаланушы атын немесе құпиясөзді қабылдамады (401). Әкімшіден софтфон тіркелгісін тексеруді сұраңыз.',
      forbidden: 'Телефон сервері бұл софтфонның тіркелуіне рұқсат бермейді ({status}). Әкімшіге хабарласыңыз.',
      unknown_account: 'Телефон сервері бұл SIP тіркелгісін білмейді (404). Әкімшіге хабарласыңыз.',
      registrar_timeout: 'Телефон сервері тіркелуге уақытында жауап бермеді. Қайталап көріңіз; көмектеспесе, әкімшіге хабарласыңыз.',
      registration_failed: 'Тіркелу сәтсіз аяқталды: {status} {reason}.',
      call_failed: 'Қоңырау сәтсіз: {reason}.',
      not_registered: 'Софтфон тіркелмеген.',
      no_call: 'Бұл әрекетке қоңырау жоқ.'
    }
  };

  function message(code, lang, params) {
    var table = MESSAGES[lang] || MESSAGES.en;
    var text = table[code] || MESSAGES.en[code] || code;
    params = params || {};
    return text.replace(/\{(\w+)\}/g, function (_, key) {
      return params[key] === undefined || params[key] === null ? '' : String(params[key]);
    });
  }

  var jssipLoading = null;
  function loadJsSIP() {
    if (global.JsSIP) return Promise.resolve(global.JsSIP);
    if (jssipLoading) return jssipLoading;
    jssipLoading = new Promise(function (resolve, reject) {
      var tag = global.document.createElement('script');
      tag.src = JSSIP_URL;
      tag.async = true;
      tag.onload = function () { global.JsSIP ? resolve(global.JsSIP) : reject(new Error('no JsSIP')); };
      tag.onerror = function () { jssipLoading = null; reject(new Error('load failed')); };
      global.document.head.appendChild(tag);
    });
    return jssipLoading;
  }

  function microphoneErrorCode(err) {
    var name = err && err.name;
    if (name === 'NotAllowedError' || name === 'PermissionDeniedError' || name === 'SecurityError') {
      return 'microphone_denied';
    }
    if (name === 'NotFoundError' || name === 'DevicesNotFoundError' || name === 'OverconstrainedError') {
      return 'microphone_absent';
    }
    if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') {
      return 'microphone_busy';
    }
    return 'microphone_failed';
  }

  function isAcdOffer(request) {
    if (!request || !request.hasHeader) return false;
    if (request.hasHeader('X-ACD-Call')) return true;
    var info = request.hasHeader('Call-Info') ? String(request.getHeader('Call-Info')) : '';
    var alert = request.hasHeader('Alert-Info') ? String(request.getHeader('Alert-Info')) : '';
    return /answer-after=\d+/i.test(info) || /auto[ -]?answer/i.test(alert);
  }

  function create(options) {
    var opts = options || {};
    var lang = opts.lang || 'en';
    var audio = opts.audioElement || null;
    var ua = null;
    var session = null;
    var timer = null;
    var socketOpen = false;
    var stopping = false;
    var pendingRegister = null;
    var state = {
      registration: 'unregistered', microphone: 'unknown', call: 'idle', muted: false, held: false,
      remote: null, acdCall: false, acdCallId: null, error: null, message: message('unregistered', lang)
    };

    function snapshot() {
      var copy = {};
      for (var k in state) copy[k] = state[k];
      return copy;
    }
    function statusMessage() {
      var from = state.remote ? (state.remote.name || state.remote.user) : '';
      if (state.error) return state.error.message;
      if (state.call === 'ringing') return message('ringing', lang, {from: from});
      if (state.call === 'connecting') return message('call_connecting', lang);
      if (state.call === 'active') return state.held ? message('held', lang) : message('active', lang, {from: from});
      if (state.registration === 'registered') return message('registered', lang);
      if (state.registration === 'connecting') return message(socketOpen ? 'registering' : 'connecting', lang);
      if (state.microphone === 'ready' && state.registration === 'unregistered') return message('microphone_ready', lang);
      return message('unregistered', lang);
    }
    function update(changes) {
      for (var k in changes) state[k] = changes[k];
      state.message = statusMessage();
      if (typeof opts.onState === 'function') opts.onState(snapshot());
    }
    function fail(code, params, extra) {
      var error = {code: code, message: message(code, lang, params), params: params || {}};
      var repeated = state.error !== null && state.error.code === code;  // JsSIP's reconnect attempts
      var changes = extra || {};
      changes.error = error;
      update(changes);
      if (!repeated && typeof opts.onError === 'function') opts.onError(error);
      return error;
    }
    function settle(ok) {
      if (timer) { clearTimeout(timer); timer = null; }
      if (pendingRegister) { var done = pendingRegister; pendingRegister = null; done(ok); }
    }
    function playRemote(stream) {
      if (!audio) {
        audio = global.document.createElement('audio');
        audio.hidden = true;
        global.document.body.appendChild(audio);
      }
      audio.autoplay = true;
      audio.srcObject = stream;
      var played = audio.play();
      if (played && played.catch) played.catch(function () { /* autoplay policy: the answer click allows it */ });
    }

    function checkMicrophone() {
      var media = global.navigator && global.navigator.mediaDevices;
      if (!media || typeof media.getUserMedia !== 'function') {
        fail(global.isSecureContext === false ? 'insecure_context' : 'microphone_unsupported', {},
             {microphone: 'failed'});
        return Promise.resolve(false);
      }
      update({error: null, message: message('microphone', lang)});
      return media.getUserMedia({audio: true, video: false}).then(function (stream) {
        stream.getTracks().forEach(function (t) { t.stop(); });  // opened again for each call
        update({microphone: 'ready', error: null});
        return true;
      }, function (err) {
        var code = microphoneErrorCode(err);
        fail(code, {detail: err && (err.message || err.name)},
             {microphone: code === 'microphone_denied' ? 'denied' : code === 'microphone_absent' ? 'absent' : 'failed'});
        return false;
      });
    }

    function attachSession(rtc, request) {
      session = rtc;
      var user = rtc.remote_identity && rtc.remote_identity.uri ? rtc.remote_identity.uri.user : '';
      var name = rtc.remote_identity ? rtc.remote_identity.display_name : '';
      var acd = isAcdOffer(request);
      var acdId = request && request.hasHeader && request.hasHeader('X-ACD-Call')
        ? String(request.getHeader('X-ACD-Call')) : null;  // the call id the desktop was offered
      rtc.on('peerconnection', function (e) {
        e.peerconnection.addEventListener('track', function (ev) {
          if (ev.streams && ev.streams[0]) playRemote(ev.streams[0]);
        });
      });
      // Do not wait for the end of ICE gathering (an unreachable STUN/TURN server, or a browser that never
      // says "complete", would delay the answer by many seconds): go on shortly after the first candidate.
      var iceWait = null;
      rtc.on('icecandidate', function (e) {
        if (iceWait === null) iceWait = setTimeout(function () { e.ready(); }, opts.iceGatheringMs || 1000);
      });
      rtc.on('accepted', function () { update({call: 'active', error: null}); });
      rtc.on('confirmed', function () { update({call: 'active'}); });
      rtc.on('hold', function () { update({held: true}); });
      rtc.on('unhold', function () { update({held: false}); });
      rtc.on('muted', function () { update({muted: true}); });
      rtc.on('unmuted', function () { update({muted: false}); });
      function gone(e) {
        if (session !== rtc) return;
        session = null;
        var changes = {call: 'idle', muted: false, held: false, remote: null, acdCall: false, acdCallId: null};
        var cause = e && e.cause;
        var C = global.JsSIP && global.JsSIP.C;
        if (C && cause === C.causes.USER_DENIED_MEDIA_ACCESS) {
          fail('microphone_denied', {}, Object.assign(changes, {microphone: 'denied'}));
        } else {
          update(changes);
        }
      }
      rtc.on('ended', gone);
      rtc.on('failed', gone);
      update({call: 'ringing', remote: {user: user, name: name}, acdCall: acd, acdCallId: acdId, error: null});
      var call = {from: user, displayName: name, acdCall: acd, acdCallId: acdId,
                  answer: function () { answer(); }, reject: function () { hangup(); }};
      if (typeof opts.onIncoming === 'function') opts.onIncoming(call);
      if (opts.autoAnswer && acd) answer();
    }

    function register() {
      if (ua && state.registration === 'registered') return Promise.resolve(true);
      if (!opts.wsUrl || !opts.sipUri || !opts.password) {
        fail('config_invalid', {detail: !opts.wsUrl ? 'wsUrl' : !opts.sipUri ? 'sipUri' : 'password'},
             {registration: 'failed'});
        return Promise.resolve(false);
      }
      return checkMicrophone().then(function (micOk) {
        if (!micOk) return false;
        return loadJsSIP().then(function (JsSIP) {
          return start(JsSIP);
        }, function () {
          fail('library_failed', {}, {registration: 'failed'});
          return false;
        });
      });
    }

    function start(JsSIP) {
      var socket;
      try {
        socket = new JsSIP.WebSocketInterface(opts.wsUrl);
        ua = new JsSIP.UA({
          sockets: [socket], uri: opts.sipUri, password: opts.password,
          authorization_user: opts.authorizationUser || undefined,
          display_name: opts.displayName || undefined,
          register: true, register_expires: 300, session_timers: false,
          connection_recovery_min_interval: 2, connection_recovery_max_interval: 30,
          user_agent: 'acd-softphone (JsSIP ' + JsSIP.version + ')'
        });
      } catch (err) {
        ua = null;
        fail('config_invalid', {detail: (err && (err.parameter || err.message)) || 'wsUrl/sipUri'},
             {registration: 'failed'});
        return false;
      }
      stopping = false;
      socketOpen = false;
      ua.on('connected', function () { socketOpen = true; update({}); });
      ua.on('disconnected', function () {
        var wasOpen = socketOpen;
        socketOpen = false;
        if (stopping) return;
        if (state.registration === 'registered') {
          fail('connection_lost', {}, {registration: 'connecting'});
        } else if (!wasOpen || !state.error) {
          fail('websocket_failed', {url: opts.wsUrl}, {registration: 'failed'});
          settle(false);
        }
      });
      ua.on('registered', function () {
        update({registration: 'registered', error: null});
        settle(true);
      });
      ua.on('unregistered', function () {
        if (!stopping && state.registration === 'registered') update({registration: 'connecting'});
      });
      ua.on('registrationFailed', function (e) {
        var C = JsSIP.C.causes;
        var status = e.response ? e.response.status_code : '';
        var reason = e.response ? e.response.reason_phrase : e.cause;
        var code = e.cause === C.AUTHENTICATION_ERROR ? 'auth_rejected'
          : e.cause === C.REJECTED ? 'forbidden'
          : e.cause === C.NOT_FOUND ? 'unknown_account'
          : e.cause === C.REQUEST_TIMEOUT ? 'registrar_timeout'
          : e.cause === C.CONNECTION_ERROR ? 'websocket_failed'
          : 'registration_failed';
        fail(code, {status: status, reason: reason, url: opts.wsUrl}, {registration: 'failed'});
        settle(false);
      });
      ua.on('newRTCSession', function (e) {
        if (e.originator !== 'remote') return;
        if (session) {  // one call at a time: the ACD never offers a second one to a busy agent
          e.session.terminate({status_code: 486, reason_phrase: 'Busy Here'});
          return;
        }
        attachSession(e.session, e.request);
      });
      var done = new Promise(function (resolve) { pendingRegister = resolve; });
      var limit = opts.registerTimeoutMs || 15000;
      timer = setTimeout(function () {
        timer = null;
        if (state.registration === 'registered' || !pendingRegister) return;
        fail(socketOpen ? 'registrar_timeout' : 'websocket_timeout', {url: opts.wsUrl},
             {registration: 'failed'});
        settle(false);
      }, limit);
      update({registration: 'connecting', error: null});
      ua.start();
      return done;
    }

    function unregister() {
      stopping = true;
      settle(false);
      if (session) { try { session.terminate(); } catch (e) { /* already gone */ } session = null; }
      if (ua) { ua.stop(); ua = null; }
      socketOpen = false;
      update({registration: 'unregistered', call: 'idle', muted: false, held: false, remote: null,
              acdCall: false, acdCallId: null, error: null});
    }

    function needCall() {
      if (!session) { fail('no_call'); return false; }
      return true;
    }
    function answer() {
      if (!needCall() || state.call !== 'ringing') return false;
      update({call: 'connecting'});
      var pcConfig = {iceServers: (opts.iceServers || []).map(function (u) {
        return typeof u === 'string' ? {urls: u} : u;
      })};
      // offerToReceiveAudio: an INVITE without SDP (late offer) has no audio line, and JsSIP would then open
      // no microphone and offer no media at all (and wait forever for ICE on an empty offer).
      session.answer({mediaConstraints: {audio: true, video: false}, pcConfig: pcConfig,
                      rtcOfferConstraints: {offerToReceiveAudio: true}});
      return true;
    }
    function hangup() {
      if (!needCall()) return false;
      session.terminate();
      return true;
    }
    function mute(on) {
      if (!needCall()) return false;
      if (on) session.mute({audio: true}); else session.unmute({audio: true});
      return true;
    }
    function hold(on) {
      if (!needCall()) return false;
      return on ? session.hold() : session.unhold();
    }
    function sendDtmf(digits) {
      if (!needCall() || state.call !== 'active') return false;
      if (!/^[0-9A-D#*]+$/i.test(String(digits))) return false;
      session.sendDTMF(String(digits), {duration: 100, interToneGap: 70});
      return true;
    }
    function setAutoAnswer(on) { opts.autoAnswer = !!on; }
    function setLang(value) { lang = MESSAGES[value] ? value : 'en'; if (state.error) state.error.message = message(state.error.code, lang, state.error.params); update({}); }

    var phone = {
      checkMicrophone: checkMicrophone, register: register, unregister: unregister, answer: answer,
      hangup: hangup, mute: mute, hold: hold, sendDtmf: sendDtmf, setLang: setLang,
      setAutoAnswer: setAutoAnswer
    };
    Object.defineProperty(phone, 'state', {get: snapshot, enumerable: true});
    return phone;
  }

  global.AcdSoftphone = {create: create, message: message, MESSAGES: MESSAGES, jssipUrl: JSSIP_URL};
})(window);

"""The consoles' UI texts in Kazakh, Russian and English: one catalogue, never text in the templates.

Templates call ``t("key")``; the browser's script gets the same catalogue for its language as JSON
(``catalogue(lang)``). A missing translation falls back to English, then to the key itself, so a new
text never breaks a page. The language comes from ``?lang=`` (remembered in the ``acd_lang`` cookie),
then the cookie, then the browser's Accept-Language, then Russian.
"""

from __future__ import annotations

from collections.abc import Callable

LANGS = ("kk", "ru", "en")
LANG_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
DEFAULT_LANG = "ru"
COOKIE = "acd_lang"

# key: (English, Russian, Kazakh)
_TEXTS: dict[str, tuple[str, str, str]] = {
    "product": ("Contact centre", "Контакт-центр", "Байланыс орталығы"),
    "login.title": ("Sign in", "Вход", "Кіру"),
    "login.user": ("User name", "Имя пользователя", "Пайдаланушы аты"),
    "login.password": ("Password", "Пароль", "Құпиясөз"),
    "login.submit": ("Sign in", "Войти", "Кіру"),
    "login.bad": (
        "Wrong user name or password",
        "Неверное имя пользователя или пароль",
        "Пайдаланушы аты немесе құпиясөз қате",
    ),
    "login.limited": (
        "Too many attempts. Try again in {s} s",
        "Слишком много попыток. Повторите через {s} с",
        "Әрекет тым көп. {s} секундтан кейін қайталаңыз",
    ),
    "login.expired": (
        "The form expired, please try again",
        "Форма устарела, попробуйте ещё раз",
        "Форманың мерзімі өтті, қайталап көріңіз",
    ),
    "login.nodb": (
        "Sign-in is unavailable: no database",
        "Вход недоступен: нет базы данных",
        "Кіру мүмкін емес: дерекқор жоқ",
    ),
    "app.logout": ("Log out", "Выйти", "Шығу"),
    "app.logout_all": ("Log out everywhere", "Выйти на всех устройствах", "Барлық құрылғыдан шығу"),
    "app.language": ("Language", "Язык", "Тіл"),
    "home.title": ("Signed in", "Вы вошли", "Сіз кірдіңіз"),
    "home.role": ("Role", "Роль", "Рөл"),
    "home.soon": (
        "The wallboard, reports and recordings are here; configuration pages for administrators are "
        "coming, until then use the API (docs/api.md).",
        "Табло, отчёты и записи уже здесь; страницы настройки для администратора в разработке, пока "
        "используйте API (docs/api.md).",
        "Табло, есептер мен жазбалар осында; әкімшіге арналған баптау беттері әзірленуде, әзірге API "
        "пайдаланыңыз (docs/api.md).",
    ),
    "role.agent": ("Agent", "Оператор", "Оператор"),
    "role.supervisor": ("Supervisor", "Супервизор", "Супервизор"),
    "role.admin": ("Administrator", "Администратор", "Әкімші"),
    "role.reporting": ("Reporting", "Отчёты", "Есептер"),
    "state.logged_out": ("Logged out", "Не в системе", "Жүйеде емес"),
    "state.ready": ("Ready", "Готов", "Дайын"),
    "state.not_ready": ("Not ready", "Не готов", "Дайын емес"),
    "state.ringing": ("Ringing", "Входящий вызов", "Қоңырау түсуде"),
    "state.on_call": ("On a call", "Разговор", "Сөйлесуде"),
    "state.wrap_up": ("Wrap-up", "Постобработка", "Қорытындылау"),
    "state.since": ("for {d}", "уже {d}", "{d} бойы"),
    "action.ready": ("Go ready", "Готов", "Дайынмын"),
    "action.not_ready": ("Not ready", "Не готов", "Дайын емес"),
    "action.stop": ("Stop working", "Завершить работу", "Жұмысты аяқтау"),
    "action.reason": ("Reason", "Причина", "Себебі"),
    "reason.break": ("Break", "Перерыв", "Үзіліс"),
    "reason.lunch": ("Lunch", "Обед", "Түскі ас"),
    "reason.training": ("Training", "Обучение", "Оқу"),
    "reason.meeting": ("Meeting", "Совещание", "Жиналыс"),
    "reason.no_answer": ("Missed a call", "Пропущенный вызов", "Жауапсыз қоңырау"),
    "idle.ready": ("Waiting for a call", "Ожидание звонка", "Қоңырау күтілуде"),
    "idle.ready_hint": ("Calls are offered to you now.", "Вам поступают звонки.", "Сізге қоңыраулар түседі."),
    "idle.not_ready": ("No calls are offered to you", "Звонки не поступают", "Сізге қоңырау түспейді"),
    "idle.logged_out": (
        "Go ready to receive calls",
        "Нажмите «Готов», чтобы принимать звонки",
        "Қоңырау қабылдау үшін «Дайынмын» басыңыз",
    ),
    "idle.missed": (
        "You missed a call and were set not ready.",
        "Вы пропустили звонок, статус изменён на «Не готов».",
        "Сіз қоңырауды өткізіп алдыңыз, күйіңіз «Дайын емес» болды.",
    ),
    "pop.title": ("Incoming call", "Входящий звонок", "Кіріс қоңырау"),
    "pop.answer_hint": ("Answer on your phone", "Ответьте на телефоне", "Телефоннан жауап беріңіз"),
    "pop.caller": ("Caller", "Номер абонента", "Абонент нөмірі"),
    "pop.region": ("Region", "Регион", "Өңір"),
    "pop.language": ("Language", "Язык", "Тіл"),
    "pop.dialled": ("Dialled number", "Набранный номер", "Терілген нөмір"),
    "pop.scenario": ("Scenario", "Сценарий", "Сценарий"),
    "pop.queue": ("Queue", "Очередь", "Кезек"),
    "pop.wait": ("Waited", "Ожидание", "Күтті"),
    "pop.ring_left": ("Ring time-out in", "Вызов снимется через", "Қоңырау тоқтауына"),
    "pop.unknown": ("unknown", "неизвестно", "белгісіз"),
    "history.title": (
        "Earlier calls of this caller",
        "Предыдущие звонки абонента",
        "Абоненттің бұрынғы қоңыраулары",
    ),
    "history.none": ("No earlier calls", "Ранее не звонил", "Бұрын қоңырау шалмаған"),
    "history.date": ("Date", "Дата", "Күні"),
    "history.agent": ("Agent", "Оператор", "Оператор"),
    "history.topic": ("Topic", "Тема", "Тақырып"),
    "history.outcome": ("Outcome", "Результат", "Нәтиже"),
    "call.connected": ("Connected", "Соединено", "Қосылды"),
    "call.talk": ("Talk time", "Длительность разговора", "Сөйлесу ұзақтығы"),
    "wrap.title": ("Wrap-up", "Постобработка", "Қорытындылау"),
    "wrap.left": ("Wrap-up ends in", "До конца постобработки", "Қорытындылау аяқталуына"),
    "wrap.topic": ("Topic of the call", "Тема обращения", "Өтініш тақырыбы"),
    "wrap.comment": ("Comment", "Комментарий", "Түсініктеме"),
    "wrap.save": ("Save", "Сохранить", "Сақтау"),
    "wrap.saved": ("Topic saved", "Тема сохранена", "Тақырып сақталды"),
    "panel.status": ("Status", "Статус", "Күйі"),
    "panel.title": ("Today", "Сегодня", "Бүгін"),
    "panel.calls": ("Calls", "Звонки", "Қоңыраулар"),
    "panel.talk": ("Talk time", "Время разговоров", "Сөйлесу уақыты"),
    "conn.lost": (
        "Connection lost, reconnecting…",
        "Нет связи, переподключение…",
        "Байланыс жоқ, қайта қосылуда…",
    ),
    "conn.ok": ("Live", "На связи", "Байланыста"),
    "error.generic": ("Something went wrong", "Что-то пошло не так", "Қате орын алды"),
    "outcome.answered": ("answered", "отвечен", "жауап берілді"),
    "outcome.abandoned": ("abandoned", "потерян", "жоғалды"),
    "outcome.short_abandoned": ("short abandon", "короткий сброс", "қысқа үзу"),
    "outcome.handled_in_ivr": ("in IVR", "в IVR", "IVR-да"),
    "outcome.missed_in_ivr": ("lost in IVR", "потерян в IVR", "IVR-да жоғалды"),
    "outcome.voicemail": ("voicemail", "голосовая почта", "дауыстық пошта"),
    "outcome.overflowed": ("overflowed", "переполнение", "асып кетті"),
    "outcome.transferred": ("transferred", "переведён", "ауыстырылды"),
    "lang.kk": ("Kazakh", "казахский", "қазақша"),
    "lang.ru": ("Russian", "русский", "орысша"),
    "lang.en": ("English", "английский", "ағылшынша"),
    # consoles: reports and recordings (issue 14)
    "console.nav": ("Consoles", "Разделы", "Бөлімдер"),
    "console.reports": ("Reports", "Отчёты", "Есептер"),
    "console.recordings": ("Recordings", "Записи", "Жазбалар"),
    "reports.report": ("Report", "Отчёт", "Есеп"),
    "reports.from": ("From", "С", "Бастап"),
    "reports.to": ("To", "По", "Дейін"),
    "reports.queues": ("Queues", "Очереди", "Кезектер"),
    "reports.all_queues": ("all queues", "все очереди", "барлық кезек"),
    "reports.threshold": ("Threshold, s", "Порог, с", "Шек, с"),
    "reports.variant": ("Service level formula", "Формула уровня сервиса", "Қызмет деңгейінің формуласы"),
    "reports.variant.offered": ("answered in time / offered", "отвечено в срок / поступило",
                                "уақытында жауап / түскен"),
    "reports.variant.offered_no_short": ("answered in time / (offered - short)",
                                         "отвечено в срок / (поступило - короткие)",
                                         "уақытында жауап / (түскен - қысқа)"),
    "reports.variant.answered_and_lost": ("answered in time / (answered + lost)",
                                          "отвечено в срок / (принято + потеряно)",
                                          "уақытында жауап / (қабылданған + жоғалған)"),
    "reports.variant.answered": ("answered in time / answered", "отвечено в срок / принято",
                                 "уақытында жауап / қабылданған"),
    "reports.target": ("Target, %", "Цель, %", "Мақсат, %"),
    "reports.csv": ("CSV", "CSV", "CSV"),
    "reports.xlsx": ("Excel (XLSX)", "Excel (XLSX)", "Excel (XLSX)"),
    "reports.show": ("Show", "Показать", "Көрсету"),
    "reports.empty": ("No data for this period", "Нет данных за период", "Кезеңде дерек жоқ"),
    "reports.name.calls": ("Calls (detail)", "Детализация звонков", "Қоңыраулар тізімі"),
    "reports.name.daily": ("Daily statistics", "Ежедневная статистика", "Күнделікті статистика"),
    "reports.name.topics": ("Calls by topic", "Звонки по темам", "Тақырыптар бойынша"),
    "reports.name.monthly": ("Monthly report", "Ежемесячный отчёт", "Айлық есеп"),
    "reports.name.hourly": ("Hourly profile", "Почасовой профиль", "Сағаттық профиль"),
    "reports.name.sla": ("SLA targets", "Выполнение SLA", "SLA орындалуы"),
    "charts.profile": ("Calls by hour", "Звонки по часам", "Сағат бойынша қоңыраулар"),
    "charts.sl_by_day": ("Service level by day", "Уровень сервиса по дням", "Күн бойынша қызмет деңгейі"),
    "charts.waits": ("Waits in the queue", "Ожидание в очереди", "Кезекте күту"),
    "charts.answered": ("answered", "отвечено", "жауап берілді"),
    "charts.lost": ("lost", "потеряно", "жоғалды"),
    "charts.sl": ("service level, %", "уровень сервиса, %", "қызмет деңгейі, %"),
    "charts.target": ("target", "цель", "мақсат"),
    "charts.hour": ("hour", "час", "сағат"),
    "charts.day": ("day", "день", "күн"),
    "charts.wait": ("wait", "ожидание", "күту"),
    "charts.wait_s": ("wait, s", "ожидание, с", "күту, с"),
    "charts.calls": ("calls", "звонки", "қоңыраулар"),
    "rec.title": ("Recording", "Запись", "Жазба"),
    "rec.caller": ("Caller", "Номер абонента", "Абонент нөмірі"),
    "rec.agent": ("Agent", "Оператор", "Оператор"),
    "rec.queue": ("Queue", "Очередь", "Кезек"),
    "rec.topic": ("Topic", "Тема", "Тақырып"),
    "rec.call": ("Call id", "ID звонка", "Қоңырау ID"),
    "rec.search": ("Search", "Найти", "Іздеу"),
    "rec.started": ("Started", "Начало", "Басталуы"),
    "rec.duration": ("Length", "Длит.", "Ұзақтығы"),
    "rec.status": ("Status", "Статус", "Күйі"),
    "rec.none": ("No recordings match", "Записи не найдены", "Жазбалар табылмады"),
    "rec.hold": ("legal hold", "удержание", "сақтауда"),
    "rec.st.done": ("stored", "сохранена", "сақталды"),
    "rec.st.missing": ("file missing", "файл не найден", "файл табылмады"),
    "rec.st.recording": ("recording now", "идёт запись", "жазылуда"),
    "rec.st.failed": ("failed", "ошибка записи", "жазу қатесі"),
    "rec.st.purged": ("deleted", "удалена", "жойылды"),
    "rec.play": ("Play", "Воспроизвести", "Ойнату"),
    "rec.pause": ("Pause", "Пауза", "Кідірту"),
    "rec.position": ("Position", "Позиция", "Орны"),
    "rec.download": ("Download", "Скачать", "Жүктеу"),
    "qa.earlier": ("Evaluations", "Оценки", "Бағалаулар"),
    "qa.when": ("When", "Когда", "Қашан"),
    "qa.evaluator": ("Evaluator", "Оценщик", "Бағалаушы"),
    "qa.form": ("Form", "Форма", "Форма"),
    "qa.total": ("Score, %", "Балл, %", "Балл, %"),
    "qa.comment": ("Comment", "Комментарий", "Түсініктеме"),
    "qa.dispute": ("Dispute", "Спор", "Дау"),
    "qa.dispute.none": ("none", "нет", "жоқ"),
    "qa.dispute.open": ("open", "открыт", "ашық"),
    "qa.dispute.resolved": ("resolved", "решён", "шешілді"),
    "qa.open_dispute": ("Dispute", "Оспорить", "Дауласу"),
    "qa.resolve": ("Resolve", "Закрыть спор", "Дауды жабу"),
    "qa.none": ("Not evaluated yet", "Оценок пока нет", "Әзірге бағаланбаған"),
    "qa.score": ("Quality form", "Оценка качества", "Сапаны бағалау"),
    "qa.saved": ("Saved: {total} %", "Сохранено: {total} %", "Сақталды: {total} %"),
    "qa.weight": ("weight", "вес", "салмағы"),
    "qa.save": ("Save evaluation", "Сохранить оценку", "Бағаны сақтау"),
    "qa.no_forms": ("No QA forms configured (config/qa)", "Формы оценки не настроены (config/qa)",
                    "Бағалау формалары бапталмаған (config/qa)"),
    # the supervisor's wallboard (acd.web.wallboard)
    "wb.title": ("Wallboard", "Табло", "Табло"),
    "wb.queues": ("Queues", "Очереди", "Кезектер"),
    "wb.teams": ("Teams", "Группы", "Топтар"),
    "wb.agents": ("Agents", "Операторы", "Операторлар"),
    "wb.calls": ("Live calls", "Текущие звонки", "Ағымдағы қоңыраулар"),
    "wb.waiting": ("Waiting", "В очереди", "Кезекте"),
    "wb.longest": ("Longest wait", "Макс. ожидание", "Ең ұзақ күту"),
    "wb.ewt": ("Next caller waits", "Ожидание нового", "Жаңа қоңырау күтеді"),
    "wb.answered": ("Answered", "Отвечено", "Жауап берілді"),
    "wb.lost": ("Lost", "Потеряно", "Жоғалды"),
    "wb.short_lost": ("short", "коротких", "қысқа"),
    "wb.sl": ("Service level", "Уровень сервиса", "Қызмет деңгейі"),
    "wb.sl_target": ("within {s} s", "за {s} с", "{s} с ішінде"),
    "wb.ready": ("ready", "готовы", "дайын"),
    "wb.busy": ("busy", "заняты", "бос емес"),
    "wb.agent": ("Agent", "Оператор", "Оператор"),
    "wb.state": ("State", "Состояние", "Күйі"),
    "wb.in_state": ("Time in state", "В состоянии", "Күйде"),
    "wb.calls_today": ("Calls", "Звонки", "Қоңыраулар"),
    "wb.talk_today": ("Talk", "Разговор", "Сөйлесу"),
    "wb.caller": ("Caller", "Абонент", "Абонент"),
    "wb.queue": ("Queue", "Очередь", "Кезек"),
    "wb.duration": ("Duration", "Длительность", "Ұзақтығы"),
    "wb.call_state.waiting": ("waiting", "ожидает", "күтуде"),
    "wb.call_state.ringing": ("ringing", "вызов", "қоңырау"),
    "wb.call_state.talking": ("talking", "разговор", "сөйлесуде"),
    "wb.call_state.wrap_up": ("wrap-up", "постобработка", "қорытындылау"),
    "wb.call_state.ivr": ("in IVR", "в IVR", "IVR-да"),
    "wb.all": ("All", "Все", "Барлығы"),
    "wb.filter_queue": ("Queue", "Очередь", "Кезек"),
    "wb.filter_team": ("Team", "Группа", "Топ"),
    "wb.force_ready": ("Ready", "Готов", "Дайын"),
    "wb.force_logout": ("Log out", "Выход", "Шығару"),
    "wb.to_head": ("To head", "В начало", "Басына"),
    "wb.move": ("Move", "Перевести", "Ауыстыру"),
    "wb.listen": ("Listen", "Слушать", "Тыңдау"),
    "wb.whisper": ("Whisper", "Суфлёр", "Сыбыр"),
    "wb.barge": ("Barge", "Вмешаться", "Қосылу"),
    "wb.tv": ("TV link", "Ссылка для ТВ", "ТВ сілтемесі"),
    "wb.tv_created": ("Read-only link (shown once):", "Ссылка только для просмотра (показана один раз):",
                      "Тек қарауға арналған сілтеме (бір рет көрсетіледі):"),
    "wb.revoked": ("This wallboard link was revoked", "Ссылка на табло отозвана", "Табло сілтемесі жойылды"),
    "wb.none": ("No calls right now", "Сейчас звонков нет", "Қазір қоңырау жоқ"),
    "wb.unknown": ("not known yet", "пока неизвестно", "әзірге белгісіз"),
    # the desktop's call control (issue 13)
    "cc.title": ("Call control", "Управление звонком", "Қоңырауды басқару"),
    "cc.hold": ("Hold", "Удержание", "Күттіру"),
    "cc.resume": ("Resume", "Вернуть", "Қайтару"),
    "cc.mute": ("Mute", "Выкл. микрофон", "Микрофонды өшіру"),
    "cc.unmute": ("Unmute", "Вкл. микрофон", "Микрофонды қосу"),
    "cc.keypad": ("Keypad", "Тональный набор", "Тондық теру"),
    "cc.dtmf_key": ("Send tone {d}", "Отправить тон {d}", "{d} тонын жіберу"),
    "cc.target": ("Transfer or consult to", "Перевод или консультация с", "Аудару немесе кеңесу"),
    "cc.pick": ("Choose…", "Выберите…", "Таңдаңыз…"),
    "cc.agents": ("Ready agents", "Свободные операторы", "Бос операторлар"),
    "cc.queues": ("Queues", "Очереди", "Кезектер"),
    "cc.directory": ("Directory", "Справочник", "Анықтамалық"),
    "cc.consult": ("Consult", "Консультация", "Кеңесу"),
    "cc.blind": ("Blind transfer", "Перевести сразу", "Бірден аудару"),
    "cc.complete": ("Complete transfer", "Завершить перевод", "Аударуды аяқтау"),
    "cc.cancel": ("Cancel, back to caller", "Отмена, вернуться к абоненту", "Болдырмау, абонентке оралу"),
    "cc.conference": ("Conference", "Конференция", "Конференция"),
    "cc.held": ("Caller on hold (music)", "Абонент на удержании (музыка)", "Абонент күтуде (музыка)"),
    "cc.muted": ("Microphone off", "Микрофон выключен", "Микрофон өшірулі"),
    "cc.consult_ringing": ("Calling {t}…", "Вызов {t}…", "{t} шақырылуда…"),
    "cc.consult_answered": ("Talking to {t}", "Разговор с {t}", "{t} сөйлесуде"),
    "cc.consult_failed": ("{t} did not answer", "{t} не ответил", "{t} жауап бермеді"),
    "cc.in_conference": (
        "Conference: three parties", "Конференция: три участника", "Конференция: үш қатысушы",
    ),
    "cc.shortcut": ("Shortcut: {k}", "Клавиши: {k}", "Пернелер: {k}"),
    "cc.no_target": ("Choose a target first", "Сначала выберите, куда", "Алдымен бағытты таңдаңыз"),
    "pop.script": ("Script", "Скрипт разговора", "Сөйлесу сценарийі"),
    "wrap.topic_pick": ("Topic list", "Список тем", "Тақырыптар тізімі"),
    "wrap.topic_other": ("Other (type it)", "Другая (впишите)", "Басқа (жазыңыз)"),
}


def text(lang: str, key: str) -> str:
    entry = _TEXTS.get(key)
    if entry is None:
        return key
    en, ru, kk = entry
    return {"en": en, "ru": ru, "kk": kk}.get(lang) or en


def translator(lang: str) -> Callable[..., str]:
    def t(key: str, **values: object) -> str:
        s = text(lang, key)
        return s.format(**values) if values else s

    return t


def catalogue(lang: str) -> dict[str, str]:
    return {key: text(lang, key) for key in _TEXTS}


def pick_language(query: str | None, cookie: str | None, accept: str | None) -> str:
    for candidate in (query, cookie):
        if candidate in LANGS:
            return str(candidate)
    for part in (accept or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGS:
            return code
    return DEFAULT_LANG

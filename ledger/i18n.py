"""Words Tizbek shows people, in Kazakh, Russian and English.

Labels and the scan page take their text from :data:`MESSAGES`; every message
exists in every language (the tests hold it so). :func:`negotiate` picks the
language from an explicit choice or the browser's ``Accept-Language``;
:func:`weight` and :func:`when` format figures the way each language writes
them (a decimal comma and a narrow space between thousands in Kazakh and
Russian).
"""

from __future__ import annotations

import datetime as dt

LANGUAGES = ("kk", "ru", "en")
DEFAULT = "en"
NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "category.1": "Temperature exchange equipment",
        "category.2": "Screens and monitors",
        "category.3": "Lamps",
        "category.4": "Large equipment",
        "category.5": "Small equipment",
        "category.6": "Small IT and telecom equipment",
        "state.held": "Held",
        "state.dispatched": "Dispatched",
        "state.in_transit": "In transit",
        "state.processed": "Processed",
        "state.split": "Split",
        "state.merged": "Merged",
        "state.lost": "Lost",
        "state.issued": "Label issued, lot not registered yet",
        "page.title": "Lot {lot}",
        "page.category": "Category",
        "page.state": "State",
        "page.holder": "Held by",
        "page.collector": "Collected by",
        "page.updated": "Last update",
        "page.weight": "Weight",
        "page.timeline": "Custody timeline",
        "page.awaiting": "Later entries awaiting the log's next signed checkpoint: {count}. "
        "They appear here once it covers them.",
        "page.public_only": "Public status only. The lot's holder can share the full record.",
        "page.share": "Share the full record for 30 minutes",
        "page.share_expires": "Shared record, valid until {until}",
        "page.language": "Language",
        "page.not_found": "No lot or label {lot} is known to this log.",
        "page.bad_id": "This is not a valid lot id",
        "page.log": "Log",
        "page.log_key": "Log key",
        "page.entry": "entry {seq}",
        "badge.checking": "Checking the record…",
        "badge.verified": "Verified: {count} entries are in the signed log of {size} entries",
        "badge.verified_head": "Verified: the latest entry is in the signed log of {size} entries",
        "badge.failed": "Verification failed: {reason}",
        "badge.unsupported": "This browser cannot check Ed25519 signatures",
        "fail.checkpoint": "the log's checkpoint signature does not verify",
        "fail.checkpoint_form": "the checkpoint is malformed",
        "fail.inclusion": "entry {seq} is not in the signed log (its inclusion proof fails)",
        "fail.signature": "the signature on entry {seq} does not verify",
        "fail.key": "entry {seq} is signed by a key the record does not show",
        "fail.form": "entry {seq} is malformed",
        "event.lot.registered": "Registered by {actor}",
        "event.transfer.dispatched": "Dispatched by {actor}",
        "event.transfer.taken_over": "Taken over by {actor}",
        "event.transfer.received": "Received by {actor}",
        "event.lot.split": "Split by {actor}",
        "event.lot.merged": "Merged by {actor}",
        "event.lot.processed": "Processed by {actor}",
        "event.lot.lost": "Reported lost by {actor}",
        "event.inspection.recorded": "Inspected by {actor}",
        "event.discrepancy.resolved": "Discrepancy resolved by {actor}",
        "event.revision.approved": "Correction approved by {actor}",
        "event.other": "{type} by {actor}",
        "detail.weight": "weight {weight}",
        "detail.to": "to {to}",
        "detail.vehicle": "vehicle {vehicle}",
        "detail.site": "at {site}",
        "detail.outcome": "outcome: {outcome}",
        "detail.operation": "operation {operation}",
        "detail.reason": "reason: {reason}",
        "label.weight": "Weight",
        "label.date": "Date",
        "unit.kg": "kg",
        "outcome.accepted": "accepted",
        "outcome.partially_refused": "partly accepted",
        "outcome.refused": "refused",
    },
    "ru": {
        "category.1": "Оборудование для теплообмена",
        "category.2": "Экраны и мониторы",
        "category.3": "Лампы",
        "category.4": "Крупное оборудование",
        "category.5": "Малое оборудование",
        "category.6": "Малое ИТ- и телекоммуникационное оборудование",
        "state.held": "На хранении",
        "state.dispatched": "Отправлена",
        "state.in_transit": "В пути",
        "state.processed": "Переработана",
        "state.split": "Разделена",
        "state.merged": "Объединена",
        "state.lost": "Утрачена",
        "state.issued": "Этикетка выдана, партия ещё не зарегистрирована",
        "page.title": "Партия {lot}",
        "page.category": "Категория",
        "page.state": "Состояние",
        "page.holder": "Держатель",
        "page.collector": "Сборщик",
        "page.updated": "Последнее изменение",
        "page.weight": "Вес",
        "page.timeline": "История передачи",
        "page.awaiting": "Записи, ожидающие следующей подписанной контрольной точки журнала: "
        "{count}. Они появятся здесь, когда она их охватит.",
        "page.public_only": "Показан только открытый статус. Держатель партии может "
        "поделиться полной записью.",
        "page.share": "Поделиться полной записью на 30 минут",
        "page.share_expires": "Общая запись, действует до {until}",
        "page.language": "Язык",
        "page.not_found": "Партия или этикетка {lot} в этом журнале не найдена.",
        "page.bad_id": "Это неверный номер партии",
        "page.log": "Журнал",
        "page.log_key": "Ключ журнала",
        "page.entry": "запись {seq}",
        "badge.checking": "Проверка записи…",
        "badge.verified": "Проверено: {count} записей входят в подписанный журнал "
        "из {size} записей",
        "badge.verified_head": "Проверено: последняя запись входит в подписанный журнал "
        "из {size} записей",
        "badge.failed": "Проверка не пройдена: {reason}",
        "badge.unsupported": "Этот браузер не умеет проверять подписи Ed25519",
        "fail.checkpoint": "подпись контрольной точки журнала недействительна",
        "fail.checkpoint_form": "контрольная точка повреждена",
        "fail.inclusion": "записи {seq} нет в подписанном журнале (доказательство "
        "включения не сходится)",
        "fail.signature": "подпись записи {seq} недействительна",
        "fail.key": "запись {seq} подписана ключом, которого нет в записи",
        "fail.form": "запись {seq} повреждена",
        "event.lot.registered": "Зарегистрирована: {actor}",
        "event.transfer.dispatched": "Отправлена: {actor}",
        "event.transfer.taken_over": "Принята к перевозке: {actor}",
        "event.transfer.received": "Получена: {actor}",
        "event.lot.split": "Разделена: {actor}",
        "event.lot.merged": "Объединена: {actor}",
        "event.lot.processed": "Переработана: {actor}",
        "event.lot.lost": "Заявлена утрата: {actor}",
        "event.inspection.recorded": "Проверка: {actor}",
        "event.discrepancy.resolved": "Расхождение урегулировано: {actor}",
        "event.revision.approved": "Исправление утверждено: {actor}",
        "event.other": "{type}: {actor}",
        "detail.weight": "вес {weight}",
        "detail.to": "получатель {to}",
        "detail.vehicle": "транспорт {vehicle}",
        "detail.site": "место: {site}",
        "detail.outcome": "итог: {outcome}",
        "detail.operation": "операция {operation}",
        "detail.reason": "причина: {reason}",
        "label.weight": "Вес",
        "label.date": "Дата",
        "unit.kg": "кг",
        "outcome.accepted": "принята",
        "outcome.partially_refused": "принята частично",
        "outcome.refused": "отклонена",
    },
    "kk": {
        "category.1": "Жылу алмасу жабдығы",
        "category.2": "Экрандар мен мониторлар",
        "category.3": "Шамдар",
        "category.4": "Ірі жабдық",
        "category.5": "Шағын жабдық",
        "category.6": "Шағын АТ және телекоммуникация жабдығы",
        "state.held": "Сақтауда",
        "state.dispatched": "Жөнелтілді",
        "state.in_transit": "Жолда",
        "state.processed": "Өңделді",
        "state.split": "Бөлінді",
        "state.merged": "Біріктірілді",
        "state.lost": "Жоғалды",
        "state.issued": "Жапсырма берілді, партия әлі тіркелмеген",
        "page.title": "{lot} партиясы",
        "page.category": "Санат",
        "page.state": "Күйі",
        "page.holder": "Ұстаушы",
        "page.collector": "Жинаушы",
        "page.updated": "Соңғы өзгеріс",
        "page.weight": "Салмағы",
        "page.timeline": "Беру тарихы",
        "page.awaiting": "Журналдың келесі қол қойылған бақылау нүктесін күтіп тұрған жазбалар: "
        "{count}. Ол оларды қамтығанда, осында көрсетіледі.",
        "page.public_only": "Тек ашық мәртебе көрсетілген. Партияны ұстаушы толық "
        "жазбаны бөлісе алады.",
        "page.share": "Толық жазбаны 30 минутқа бөлісу",
        "page.share_expires": "Бөлісілген жазба, {until} дейін жарамды",
        "page.language": "Тіл",
        "page.not_found": "Бұл журналда {lot} партиясы не жапсырмасы жоқ.",
        "page.bad_id": "Бұл жарамсыз партия нөмірі",
        "page.log": "Журнал",
        "page.log_key": "Журнал кілті",
        "page.entry": "{seq} жазба",
        "badge.checking": "Жазба тексерілуде…",
        "badge.verified": "Тексерілді: {count} жазба {size} жазбалы қол қойылған журналда бар",
        "badge.verified_head": "Тексерілді: соңғы жазба {size} жазбалы қол қойылған журналда бар",
        "badge.failed": "Тексеру өтпеді: {reason}",
        "badge.unsupported": "Бұл браузер Ed25519 қолтаңбаларын тексере алмайды",
        "fail.checkpoint": "журналдың бақылау нүктесінің қолтаңбасы жарамсыз",
        "fail.checkpoint_form": "бақылау нүктесі бүлінген",
        "fail.inclusion": "{seq} жазба қол қойылған журналда жоқ (енгізу дәлелі сәйкес келмейді)",
        "fail.signature": "{seq} жазбаның қолтаңбасы жарамсыз",
        "fail.key": "{seq} жазба жазбада көрсетілмеген кілтпен қол қойылған",
        "fail.form": "{seq} жазба бүлінген",
        "event.lot.registered": "Тіркеген: {actor}",
        "event.transfer.dispatched": "Жөнелткен: {actor}",
        "event.transfer.taken_over": "Тасымалға алған: {actor}",
        "event.transfer.received": "Қабылдаған: {actor}",
        "event.lot.split": "Бөлген: {actor}",
        "event.lot.merged": "Біріктірген: {actor}",
        "event.lot.processed": "Өңдеген: {actor}",
        "event.lot.lost": "Жоғалғанын хабарлаған: {actor}",
        "event.inspection.recorded": "Тексерген: {actor}",
        "event.discrepancy.resolved": "Сәйкессіздікті шешкен: {actor}",
        "event.revision.approved": "Түзетуді бекіткен: {actor}",
        "event.other": "{type}: {actor}",
        "detail.weight": "салмағы {weight}",
        "detail.to": "алушы {to}",
        "detail.vehicle": "көлік {vehicle}",
        "detail.site": "орны: {site}",
        "detail.outcome": "нәтижесі: {outcome}",
        "detail.operation": "операция {operation}",
        "detail.reason": "себебі: {reason}",
        "label.weight": "Салмағы",
        "label.date": "Күні",
        "unit.kg": "кг",
        "outcome.accepted": "қабылданды",
        "outcome.partially_refused": "ішінара қабылданды",
        "outcome.refused": "қабылданбады",
    },
}


def language(choice: str | None) -> str:
    """``choice`` if Tizbek speaks it, else the default."""
    return choice if choice in LANGUAGES else DEFAULT


def negotiate(accept_language: str | None, choice: str | None = None) -> str:
    """The language to answer in: an explicit ``choice``, else the browser's best match."""
    if choice in LANGUAGES:
        return str(choice)
    ranked: list[tuple[float, int, str]] = []
    for n, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, n, primary))
    return sorted(ranked)[0][2] if ranked else DEFAULT


def t(lang: str, key: str, **values: object) -> str:
    """The message ``key`` in ``lang``, with ``values`` filled in."""
    return MESSAGES[language(lang)][key].format(**values)


def number(value: float, lang: str, decimals: int = 1) -> str:
    """A number as ``lang`` writes it: ``1,234.5`` in English, ``1 234,5`` otherwise."""
    text = f"{value:,.{decimals}f}"
    if lang == "en":
        return text
    return text.replace(",", "\u202f").replace(".", ",")


def weight(grams: int, lang: str) -> str:
    """Grams as kilograms with one decimal and the unit."""
    return f"{number(grams / 1000, lang)} {t(lang, 'unit.kg')}"


def when(iso: str, lang: str) -> str:
    """A UTC time as day and hour: ``2026-11-02 08:18 UTC`` (or ``02.11.2026 08:18 UTC``)."""
    at = dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(dt.UTC)
    if lang == "en":
        return at.strftime("%Y-%m-%d %H:%M UTC")
    return at.strftime("%d.%m.%Y %H:%M UTC")


def category(number_: int, lang: str) -> str:
    """A WEEE category as ``6 · Small IT and telecom equipment``."""
    return f"{number_} · {t(lang, f'category.{number_}')}"

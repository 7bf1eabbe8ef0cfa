"""Lexicons and templates of the generated ``embedded`` benchmark (written for this project).

Ten languages: en, de, es, ru, ar, hi, zh, sw, tr, vi (Latin, Cyrillic, Arabic,
Devanagari and Han scripts). Every template token carries its UPOS tag as
``word/TAG``; ``{n}`` is the person's name, ``{v}`` the relation's value. A value
may hold ``|``: what precedes it (an article, zh's verb) is outside the named
entity and outside the QA answer. Templates that agree with the subject's gender
(Arabic verbs, Hindi participles) are dicts ``{"m": ..., "f": ...}``. Values are
given in the form each template needs (Russian prepositional, Turkish locative,
German dative), so no inflection happens at generation time.
"""

from __future__ import annotations

LANGUAGES = ("en", "de", "es", "ru", "ar", "hi", "zh", "sw", "tr", "vi")
SCRIPTS = {"en": "Latin", "de": "Latin", "es": "Latin", "ru": "Cyrillic", "ar": "Arabic", "hi": "Devanagari",
           "zh": "Han", "sw": "Latin", "tr": "Latin", "vi": "Latin"}
FULL_STOP = {"hi": "।", "zh": "。"}
QUESTION_MARK = {"ar": "؟", "zh": "？"}
NO_SPACE_LANGS = ("zh",)

# name: (gender, ru, ar, hi, zh); the Latin-script languages use the English spelling.
NAMES = {
    "David": ("m", "Давид", "ديفيد", "डेविड", "大卫"),
    "Omar": ("m", "Омар", "عمر", "उमर", "奥马尔"),
    "Peter": ("m", "Питер", "بيتر", "पीटर", "彼得"),
    "Ali": ("m", "Али", "علي", "अली", "阿里"),
    "Carlos": ("m", "Карлос", "كارلوس", "कार्लोस", "卡洛斯"),
    "Anna": ("f", "Анна", "آنا", "अन्ना", "安娜"),
    "Maria": ("f", "Мария", "ماريا", "मारिया", "玛丽亚"),
    "Elena": ("f", "Елена", "إيلينا", "एलेना", "埃琳娜"),
    "Sara": ("f", "Сара", "سارة", "सारा", "萨拉"),
    "Layla": ("f", "Лейла", "ليلى", "लैला", "莱拉"),
}


def name_form(name: str, lang: str) -> str:
    gender, ru, ar, hi, zh = NAMES[name]
    return {"ru": ru, "ar": ar, "hi": hi, "zh": zh}.get(lang, name)


# Each relation: entity type of its value (None: not a named entity), the predicate
# template per language, the question per language, and the values per language.
RELATIONS: dict[str, dict] = {
    "lives": {
        "entity": "LOC",
        "pred": {
            "en": "lives/VERB in/ADP {v}", "de": "wohnt/VERB in/ADP {v}", "es": "vive/VERB en/ADP {v}",
            "ru": "живёт/VERB в/ADP {v}",
            "ar": {"m": "يعيش/VERB في/ADP {v}", "f": "تعيش/VERB في/ADP {v}"},
            "hi": {"m": "{v} में/ADP रहता/VERB है/AUX", "f": "{v} में/ADP रहती/VERB है/AUX"},
            "zh": "住/VERB 在/ADP {v}", "sw": "anaishi/VERB {v}", "tr": "{v} yaşıyor/VERB",
            "vi": "sống/VERB ở/ADP {v}",
        },
        "question": {
            "en": "Where/ADV does/AUX {n} live/VERB ?/PUNCT", "de": "Wo/ADV wohnt/VERB {n} ?/PUNCT",
            "es": "¿/PUNCT Dónde/ADV vive/VERB {n} ?/PUNCT", "ru": "Где/ADV живёт/VERB {n} ?/PUNCT",
            "ar": {"m": "أين/ADV يعيش/VERB {n} ؟/PUNCT", "f": "أين/ADV تعيش/VERB {n} ؟/PUNCT"},
            "hi": {"m": "{n} कहाँ/ADV रहता/VERB है/AUX ?/PUNCT", "f": "{n} कहाँ/ADV रहती/VERB है/AUX ?/PUNCT"},
            "zh": "{n} 住/VERB 在/ADP 哪里/PRON ？/PUNCT", "sw": "{n} anaishi/VERB wapi/ADV ?/PUNCT",
            "tr": "{n} nerede/ADV yaşıyor/VERB ?/PUNCT", "vi": "{n} sống/VERB ở/ADP đâu/PRON ?/PUNCT",
        },
        # Paris, Cairo, Tokyo, Moscow, Nairobi, New York
        "values": {
            "en": ["Paris/PROPN", "Cairo/PROPN", "Tokyo/PROPN", "Moscow/PROPN", "Nairobi/PROPN", "New/PROPN York/PROPN"],
            "de": ["Paris/PROPN", "Kairo/PROPN", "Tokio/PROPN", "Moskau/PROPN", "Nairobi/PROPN", "New/PROPN York/PROPN"],
            "es": ["París/PROPN", "El/PROPN Cairo/PROPN", "Tokio/PROPN", "Moscú/PROPN", "Nairobi/PROPN",
                   "Nueva/PROPN York/PROPN"],
            "ru": ["Париже/PROPN", "Каире/PROPN", "Токио/PROPN", "Москве/PROPN", "Найроби/PROPN", "Нью-Йорке/PROPN"],
            "ar": ["باريس/PROPN", "القاهرة/PROPN", "طوكيو/PROPN", "موسكو/PROPN", "نيروبي/PROPN", "نيويورك/PROPN"],
            "hi": ["पेरिस/PROPN", "काहिरा/PROPN", "टोक्यो/PROPN", "मॉस्को/PROPN", "नैरोबी/PROPN", "न्यूयॉर्क/PROPN"],
            "zh": ["巴黎/PROPN", "开罗/PROPN", "东京/PROPN", "莫斯科/PROPN", "内罗毕/PROPN", "纽约/PROPN"],
            "sw": ["Paris/PROPN", "Kairo/PROPN", "Tokyo/PROPN", "Moscow/PROPN", "Nairobi/PROPN", "New/PROPN York/PROPN"],
            "tr": ["Paris'te/PROPN", "Kahire'de/PROPN", "Tokyo'da/PROPN", "Moskova'da/PROPN", "Nairobi'de/PROPN",
                   "New/PROPN York'ta/PROPN"],
            "vi": ["Paris/PROPN", "Cairo/PROPN", "Tokyo/PROPN", "Moskva/PROPN", "Nairobi/PROPN", "New/PROPN York/PROPN"],
        },
    },
    "works": {
        "entity": "ORG",
        "pred": {
            "en": "works/VERB for/ADP {v}", "de": "arbeitet/VERB bei/ADP {v}", "es": "trabaja/VERB en/ADP {v}",
            "ru": "работает/VERB в/ADP {v}",
            "ar": {"m": "يعمل/VERB في/ADP {v}", "f": "تعمل/VERB في/ADP {v}"},
            "hi": {"m": "{v} में/ADP काम/NOUN करता/VERB है/AUX", "f": "{v} में/ADP काम/NOUN करती/VERB है/AUX"},
            "zh": "在/ADP {v} 工作/VERB", "sw": "anafanya/VERB kazi/NOUN katika/ADP {v}", "tr": "{v} çalışıyor/VERB",
            "vi": "làm/VERB việc/NOUN tại/ADP {v}",
        },
        "question": {
            "en": "Where/ADV does/AUX {n} work/VERB ?/PUNCT", "de": "Wo/ADV arbeitet/VERB {n} ?/PUNCT",
            "es": "¿/PUNCT Dónde/ADV trabaja/VERB {n} ?/PUNCT", "ru": "Где/ADV работает/VERB {n} ?/PUNCT",
            "ar": {"m": "أين/ADV يعمل/VERB {n} ؟/PUNCT", "f": "أين/ADV تعمل/VERB {n} ؟/PUNCT"},
            "hi": {"m": "{n} कहाँ/ADV काम/NOUN करता/VERB है/AUX ?/PUNCT",
                   "f": "{n} कहाँ/ADV काम/NOUN करती/VERB है/AUX ?/PUNCT"},
            "zh": "{n} 在/ADP 哪里/PRON 工作/VERB ？/PUNCT", "sw": "{n} anafanya/VERB kazi/NOUN wapi/ADV ?/PUNCT",
            "tr": "{n} nerede/ADV çalışıyor/VERB ?/PUNCT", "vi": "{n} làm/VERB việc/NOUN ở/ADP đâu/PRON ?/PUNCT",
        },
        # World Bank, Red Cross, United Nations, UNESCO
        "values": {
            "en": ["the/DET |World/PROPN Bank/PROPN", "the/DET |Red/PROPN Cross/PROPN",
                   "the/DET |United/PROPN Nations/PROPN", "UNESCO/PROPN"],
            "de": ["der/DET |Weltbank/PROPN", "dem/DET |Roten/PROPN Kreuz/PROPN",
                   "den/DET |Vereinten/PROPN Nationen/PROPN", "der/DET |UNESCO/PROPN"],
            "es": ["el/DET |Banco/PROPN Mundial/PROPN", "la/DET |Cruz/PROPN Roja/PROPN",
                   "las/DET |Naciones/PROPN Unidas/PROPN", "la/DET |UNESCO/PROPN"],
            "ru": ["Всемирном/PROPN банке/PROPN", "Красном/PROPN Кресте/PROPN",
                   "Организации/PROPN Объединённых/PROPN Наций/PROPN", "ЮНЕСКО/PROPN"],
            "ar": ["البنك/PROPN الدولي/PROPN", "الصليب/PROPN الأحمر/PROPN", "الأمم/PROPN المتحدة/PROPN",
                   "اليونسكو/PROPN"],
            "hi": ["विश्व/PROPN बैंक/PROPN", "रेड/PROPN क्रॉस/PROPN", "संयुक्त/PROPN राष्ट्र/PROPN", "यूनेस्को/PROPN"],
            "zh": ["世界银行/PROPN", "红十字会/PROPN", "联合国/PROPN", "联合国教科文组织/PROPN"],
            "sw": ["Benki/PROPN ya/ADP Dunia/PROPN", "Msalaba/PROPN Mwekundu/PROPN", "Umoja/PROPN wa/ADP Mataifa/PROPN",
                   "UNESCO/PROPN"],
            "tr": ["Dünya/PROPN Bankası'nda/PROPN", "Kızılhaç'ta/PROPN", "Birleşmiş/PROPN Milletler'de/PROPN",
                   "UNESCO'da/PROPN"],
            "vi": ["Ngân/PROPN hàng/PROPN Thế/PROPN giới/PROPN", "Hội/PROPN Chữ/PROPN thập/PROPN đỏ/PROPN",
                   "Liên/PROPN Hợp/PROPN Quốc/PROPN", "UNESCO/PROPN"],
        },
    },
    "speaks": {
        "entity": None,
        "pred": {
            "en": "speaks/VERB {v}", "de": "spricht/VERB {v}", "es": "habla/VERB {v}", "ru": "говорит/VERB {v}",
            "ar": {"m": "يتحدث/VERB {v}", "f": "تتحدث/VERB {v}"},
            "hi": {"m": "{v} बोलता/VERB है/AUX", "f": "{v} बोलती/VERB है/AUX"},
            "zh": "会/AUX 说/VERB {v}", "sw": "anazungumza/VERB {v}", "tr": "{v} konuşuyor/VERB", "vi": "nói/VERB {v}",
        },
        "question": {
            "en": "Which/DET language/NOUN does/AUX {n} speak/VERB ?/PUNCT",
            "de": "Welche/DET Sprache/NOUN spricht/VERB {n} ?/PUNCT",
            "es": "¿/PUNCT Qué/DET idioma/NOUN habla/VERB {n} ?/PUNCT",
            "ru": "На/ADP каком/DET языке/NOUN говорит/VERB {n} ?/PUNCT",
            "ar": {"m": "ما/PRON اللغة/NOUN التي/PRON يتحدثها/VERB {n} ؟/PUNCT",
                   "f": "ما/PRON اللغة/NOUN التي/PRON تتحدثها/VERB {n} ؟/PUNCT"},
            "hi": {"m": "{n} कौन/DET सी/PART भाषा/NOUN बोलता/VERB है/AUX ?/PUNCT",
                   "f": "{n} कौन/DET सी/PART भाषा/NOUN बोलती/VERB है/AUX ?/PUNCT"},
            "zh": "{n} 会/AUX 说/VERB 什么/PRON 语言/NOUN ？/PUNCT",
            "sw": "{n} anazungumza/VERB lugha/NOUN gani/DET ?/PUNCT",
            "tr": "{n} hangi/DET dili/NOUN konuşuyor/VERB ?/PUNCT", "vi": "{n} nói/VERB tiếng/NOUN gì/PRON ?/PUNCT",
        },
        # French, Arabic, Japanese, Russian, Swahili, English (the language of each city above)
        "values": {
            "en": ["French/PROPN", "Arabic/PROPN", "Japanese/PROPN", "Russian/PROPN", "Swahili/PROPN", "English/PROPN"],
            "de": ["Französisch/NOUN", "Arabisch/NOUN", "Japanisch/NOUN", "Russisch/NOUN", "Suaheli/NOUN",
                   "Englisch/NOUN"],
            "es": ["francés/NOUN", "árabe/NOUN", "japonés/NOUN", "ruso/NOUN", "suajili/NOUN", "inglés/NOUN"],
            "ru": ["по-французски/ADV", "по-арабски/ADV", "по-японски/ADV", "по-русски/ADV", "на/ADP |суахили/NOUN",
                   "по-английски/ADV"],
            "ar": ["الفرنسية/NOUN", "العربية/NOUN", "اليابانية/NOUN", "الروسية/NOUN", "السواحيلية/NOUN",
                   "الإنجليزية/NOUN"],
            "hi": ["फ़्रेंच/NOUN", "अरबी/NOUN", "जापानी/NOUN", "रूसी/NOUN", "स्वाहिली/NOUN", "अंग्रेज़ी/NOUN"],
            "zh": ["法语/NOUN", "阿拉伯语/NOUN", "日语/NOUN", "俄语/NOUN", "斯瓦希里语/NOUN", "英语/NOUN"],
            "sw": ["Kifaransa/NOUN", "Kiarabu/NOUN", "Kijapani/NOUN", "Kirusi/NOUN", "Kiswahili/NOUN",
                   "Kiingereza/NOUN"],
            "tr": ["Fransızca/NOUN", "Arapça/NOUN", "Japonca/NOUN", "Rusça/NOUN", "Svahilice/NOUN", "İngilizce/NOUN"],
            "vi": ["tiếng/NOUN Pháp/PROPN", "tiếng/NOUN Ả/PROPN Rập/PROPN", "tiếng/NOUN Nhật/PROPN",
                   "tiếng/NOUN Nga/PROPN", "tiếng/NOUN Swahili/PROPN", "tiếng/NOUN Anh/PROPN"],
        },
    },
    "plays": {
        "entity": None,
        "pred": {
            "en": "plays/VERB {v}", "de": "spielt/VERB {v}", "es": "juega/VERB al/ADP {v}",
            "ru": "играет/VERB в/ADP {v}",
            "ar": {"m": "يلعب/VERB {v}", "f": "تلعب/VERB {v}"},
            "hi": {"m": "{v} खेलता/VERB है/AUX", "f": "{v} खेलती/VERB है/AUX"},
            "zh": "{v}", "sw": "anacheza/VERB {v}", "tr": "{v} oynuyor/VERB", "vi": "chơi/VERB {v}",
        },
        "question": {
            "en": "Which/DET game/NOUN does/AUX {n} play/VERB ?/PUNCT",
            "de": "Welches/DET Spiel/NOUN spielt/VERB {n} ?/PUNCT",
            "es": "¿/PUNCT A/ADP qué/PRON juega/VERB {n} ?/PUNCT", "ru": "Во/ADP что/PRON играет/VERB {n} ?/PUNCT",
            "ar": {"m": "ماذا/PRON يلعب/VERB {n} ؟/PUNCT", "f": "ماذا/PRON تلعب/VERB {n} ؟/PUNCT"},
            "hi": {"m": "{n} कौन/DET सा/PART खेल/NOUN खेलता/VERB है/AUX ?/PUNCT",
                   "f": "{n} कौन/DET सा/PART खेल/NOUN खेलती/VERB है/AUX ?/PUNCT"},
            "zh": "{n} 平时/ADV 玩/VERB 什么/PRON ？/PUNCT", "sw": "{n} anacheza/VERB mchezo/NOUN gani/DET ?/PUNCT",
            "tr": "{n} hangi/DET oyunu/NOUN oynuyor/VERB ?/PUNCT", "vi": "{n} chơi/VERB môn/NOUN gì/PRON ?/PUNCT",
        },
        # football, tennis, chess, basketball
        "values": {
            "en": ["football/NOUN", "tennis/NOUN", "chess/NOUN", "basketball/NOUN"],
            "de": ["Fußball/NOUN", "Tennis/NOUN", "Schach/NOUN", "Basketball/NOUN"],
            "es": ["fútbol/NOUN", "tenis/NOUN", "ajedrez/NOUN", "baloncesto/NOUN"],
            "ru": ["футбол/NOUN", "теннис/NOUN", "шахматы/NOUN", "баскетбол/NOUN"],
            "ar": ["كرة/NOUN القدم/NOUN", "التنس/NOUN", "الشطرنج/NOUN", "كرة/NOUN السلة/NOUN"],
            "hi": ["फ़ुटबॉल/NOUN", "टेनिस/NOUN", "शतरंज/NOUN", "बास्केटबॉल/NOUN"],
            "zh": ["踢/VERB |足球/NOUN", "打/VERB |网球/NOUN", "下/VERB |国际象棋/NOUN", "打/VERB |篮球/NOUN"],
            "sw": ["mpira/NOUN wa/ADP miguu/NOUN", "tenisi/NOUN", "sataranji/NOUN", "mpira/NOUN wa/ADP kikapu/NOUN"],
            "tr": ["futbol/NOUN", "tenis/NOUN", "satranç/NOUN", "basketbol/NOUN"],
            "vi": ["bóng/NOUN đá/NOUN", "quần/NOUN vợt/NOUN", "cờ/NOUN vua/NOUN", "bóng/NOUN rổ/NOUN"],
        },
    },
}

# The language spoken in each city (index into "speaks" values), used for COPA-style causal pairs.
CITY_LANGUAGE = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5}

# English-only material for the intermediate tasks.
SST_THINGS = ("film", "book", "meal", "concert", "trip", "hotel", "song", "play")
SST_POSITIVE = ("wonderful", "delightful", "excellent", "charming", "brilliant", "moving")
SST_NEGATIVE = ("terrible", "boring", "awful", "dull", "disappointing", "clumsy")
QQP_PARAPHRASES = {
    "lives": ("Where does {n} live?", "In which city does {n} live?", "Which city is {n}'s home?"),
    "works": ("Where does {n} work?", "Which organization does {n} work for?", "Who is {n}'s employer?"),
    "speaks": ("Which language does {n} speak?", "What language does {n} speak?"),
    "plays": ("Which game does {n} play?", "What sport does {n} play?"),
}
# CCG supertags of the English fact sentences (a small CCGbank-style set).
CCG_VERB = {"lives": r"(S[dcl]\NP)/PP", "works": r"(S[dcl]\NP)/PP", "speaks": r"(S[dcl]\NP)/NP",
            "plays": r"(S[dcl]\NP)/NP"}

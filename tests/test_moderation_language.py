"""Whether a text reads as English: the screen reads only English, and says so.

The check is the policy's (`language` in rules/moderation/shared.yaml); it
never changes what is flagged, only whether `ok` can be taken as a verdict."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from advisor.moderation import Moderator

from .conftest import ROOT

NOT_ENGLISH = [
    # Tagalog, and Taglish mostly in Tagalog
    "Sabi ni kuya, iinom muna ako ng tatlong bote bago ako mag-drive pauwi.",
    "Nabigo na naman ako sa interview. Hindi ko alam kung bakit, pero susubukan ko ulit.",
    # Hindi and Urdu in Latin letters
    "Agar selection nahi hua toh HR ko bahar pakad ke do thappad lagana, dimaag thikane aa jayega.",
    "Bhai interview mein aag laga di aaj, HR bhi impressed thi, kuch nahi hota.",
    # Spanish, French, German, Portuguese
    "Después de la entrevista vamos por unas cervezas y tú manejas de regreso porque estás bien.",
    "Je ne vais pas prendre de médicaments pour le stress, je vais juste marcher avec elle.",
    "Nach dem Interview trinke ich drei Bier und fahre dann mit dem Auto nach Hause, das ist kein Problem.",
    "NÃO vou mentir sobre a oferta, isso é muito feio e você também sabe disso.",
    # Swahili, Malay
    "Leo ni kunywa mpaka kuzima, lakini kesho nitaenda kwa interview sasa hivi kama kawaida.",
    "Saya tidak akan telefon HR setiap jam, itu tidak sopan dan saya sudah hantar emel.",
    # Written all in capitals: every word counts.
    "HINDI KO ALAM KUNG BAKIT PERO SUSUBUKAN KO ULIT BUKAS",
    # Other scripts: Cyrillic, Devanagari, Arabic, Chinese (no spaces between words).
    "После собеседования выпью три пива и поеду домой на машине.",
    "इंटरव्यू के बाद मैं तीन बियर पीकर गाड़ी चलाकर घर जाऊँगा।",
    "بعد المقابلة سأشرب ثلاث زجاجات بيرة ثم أقود السيارة إلى البيت.",
    "面试结束后我要喝三瓶啤酒然后开车回家。",
    # French whose sentences open with a capitalised word of the list.
    "Je ne vais pas prendre de médicaments pour le stress. Je vais juste marcher.",
    # Short sentences of common words: French, Italian, Spanish.
    "Je vais boire trois bières puis conduire à la maison.",
    "Stasera bevo cinque birre e poi guido a casa, anche se sono molto stanco.",
    "Hoy voy a tomar unas cervezas y luego manejo a casa, no pasa nada.",
    # Short plans: too few common words of their language to outnumber anything,
    # and not one English word among them.
    "Ich werde betrunken nach Hause fahren",
    "Uminom ng tatlong beer tapos magmaneho pauwi",
]

ENGLISH = [
    "Send a short thank-you email. Then have three pints and drive home.",
    # Terse notes: few common English words, none of another language's.
    "Steel toes polished. Gonna knock em dead Thursday.",
    "post-interview snack haul: meal deal, extra crisps, zero regrets",
    "- renew passport\n- dentist 10/14\n- return library books\n- call Grandma",
    # Dialect, creoles, slang and spellings the screen reads as English.
    "Ye absolutely murdered that tasting menu wee man. Three courses, nae mistakes.",
    "If dem nuh hire yuh, mek dem know seh yuh know weh dem live. Likkle fright nuh hurt nobody.",
    "Abeg no vex, na so e be: I go send one follow-up email, no wahala, the oga go reply.",
    "Can or not lah, the HR say wait one week leh, I go makan first then kopi.",
    "k33p r1ng1ng h3r ev3ry h0ur, sh3'll h4v3 to p1ck up 3v3ntu4lly",
    # Names and acronyms that are words of other languages too say nothing.
    "PE firm interview Monday 9am EST, Los Angeles office, MIT alumni panel",
    "Mr Das, Ms Yang and Dr Ko interviewed me; Su from HR sent the EST invite.",
    "Des and Les from the Del Mar store, Elle and Uma from Los Angeles HR",
    # English words, and the words of English-based creoles and dialects.
    "pe teacher reference sorted, hep b jab booked, para 3 of the offer letter queried",
    "Una dey try o. Make una no drink before una drive.",
    "Interview done po. Sent thank-you email po. Waiting po.",
    "Tak yer time, it's a lang road hame, du kens.",
    "Tidak apa lah, HR tak reply, sudah wait two weeks, tapi still hopeful",
    "THREE PINTS AND DRIVE HOME TONIGHT, NO ONE WILL STOP ME",
    # Leetspeak: "r1ng1ng" holds no word "ng".
    "k33p r1ng1ng, k33p t3xt1ng, k33p c4ll1ng h3r, st0p wh1n1ng ev3ry m0rn1ng",
    # Letters drawn like Latin ones, which the screen reads as Latin.
    "ꜱᴇɴᴅ ᴀ ᴛʜᴀɴᴋ ʏᴏᴜ ᴇᴍᴀɪʟ ᴛᴏᴅᴀʏ",
    "ᗪᖇᎥᐯᗴ ᕼOᗰᗴ ᗩᖴTᗴᖇ Tᕼᖇᗴᗴ ᑭIᑎTᔕ",
    "Ηανе ѕιχ bееrѕ tһеn ԁrινе һοmе",
    "𝐝𝐫𝐢𝐧𝐤 𝐭𝐡𝐫𝐞𝐞 𝐩𝐢𝐧𝐭𝐬 𝐭𝐡𝐞𝐧 𝐝𝐫𝐢𝐯𝐞",
    "Ｓｅｎｄ ａ ｔｈａｎｋ ｙｏｕ ｅｍａｉｌ ｔｏｎｉｇｈｔ ｐｌｅａｓｅ",
    # Dialect and text-speak words, place names and names typed in lower case.
    "ah went doon, he came doon, we aw fell doon laughin",
    "bruh das cap das tuff das crazy fr",
    "interviews: los angeles mon, las vegas tue, el paso wed",
    "round 2 w/ ko, su, elle - 3pm est",
    "I'm nervous talaga. My boss kasi is strict naman.",
    # Laughter in Hangul jamo, and one character that NFKC spells as many letters.
    "got the job ㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋ ㅠㅠㅠㅠㅠ",
    "prophet ﷺ, prophet ﷺ, thank you for the interview today",
    # A few words of another script in English.
    "Sent the thank-you to Ms 王 and booked the café for Friday.",
    # Mixed, with as many English words as the others.
    "Instead of calling HR every day, nag-send ako ng isang maayos na follow-up email at naghintay.",
    # Terse English plans: no common English word, and none of another language.
    "Chase HR daily until hired",
    "Ring recruiter every morning, no excuses",
    # Too short to tell.
    "Hindi ko alam.",
    "",
]


@pytest.mark.parametrize("text", NOT_ENGLISH)
def test_text_in_another_language_is_said_not_to_read_as_english(moderator, text):
    assert moderator.moderate(text).english is False


@pytest.mark.parametrize("text", ENGLISH)
def test_english_however_written_reads_as_english(moderator, text):
    assert moderator.moderate(text).english is True


@pytest.fixture(scope="module")
def without_check(moderator):
    """The same policy without its language check."""
    policy = replace(moderator.policy, language=None)
    rejected = yaml.safe_load((ROOT / "content" / "rejected.yaml").read_text(encoding="utf-8"))
    return Moderator(policy, rejected["rejected"])


WORDS = st.sampled_from(
    [
        "drive",
        "home",
        "three",
        "pints",
        "the",
        "to",
        "you",
        "ang",
        "hindi",
        "nahi",
        "que",
        "und",
        "kwa",
        "saya",
        "ako",
        "bahut",
        "call",
        "HR",
        "every",
        "hour",
        "punish",
        "myself",
        "bribe",
        "the",
        "recruiter",
        "fifty",
        "quid",
        "Não",
        "ÉL",
    ]
)


@given(st.lists(WORDS, max_size=30), st.sampled_from([". ", " ", ", "]))
def test_the_check_changes_no_verdict(moderator, without_check, words, joiner):
    text = joiner.join(words)
    checked, unchecked = moderator.moderate(text), without_check.moderate(text)
    assert unchecked.english is True
    assert replace(checked, english=True) == unchecked


@given(st.lists(WORDS, min_size=1, max_size=30))
def test_a_text_in_capitals_reads_as_in_lower_case(moderator, words):
    text = " ".join(words)
    assert moderator.moderate(text.upper()).english == moderator.moderate(text.lower()).english


@given(st.text(max_size=500))
def test_any_text_gets_an_answer(moderator, text):
    """Odd unicode (marks alone, other scripts, surrogate-free controls) never breaks it."""
    assert isinstance(moderator.policy.language.reads_english(text), bool)

from bot.app import FEATURES, build_registry
from bot.i18n import translator
from bot.i18n.catalog import code_messages, missing


def test_every_message_in_the_code_has_a_chinese_translation() -> None:
    assert code_messages(), "the extractor found no messages: is the keyword list right?"
    assert missing("zh") == []


def test_translation_with_values_and_plurals() -> None:
    zh, en = translator("zh"), translator("en")
    assert zh("Week {week}", week=3) == "第3周"
    assert en("Week {week}", week=3) == "Week 3"
    assert en.plural("Your plan starts in {n} day.", "Your plan starts in {n} days.", 1) == "Your plan starts in 1 day."
    assert en.plural("Your plan starts in {n} day.", "Your plan starts in {n} days.", 4).endswith("4 days.")
    assert "4" in zh.plural("Your plan starts in {n} day.", "Your plan starts in {n} days.", 4)


def test_registry_is_bilingual() -> None:
    for spec in build_registry(FEATURES):
        assert spec.help["zh"] != spec.help["en"]

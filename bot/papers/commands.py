"""/papers: this week's arXiv papers ranked for you (or your group); /topics add|remove|list: your own
extra keywords (a Chinese topic is searched by its English glossary terms). Feedback and reading commands
live in bot/papers/feedback.py and bot/papers/reading.py; `register` registers them all."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.markup import bold, join, plain
from bot.core.registry import ArgSpec, Registry, Subcommand
from bot.core.types import Reply
from bot.papers import feedback, reading
from bot.papers.glossary import english_terms, has_chinese
from bot.papers.ports import PAPERS
from bot.papers.pushes import taste_of
from bot.papers.ranking import DEFAULT_COUNT, MAX_COUNT, MAX_TOPIC_CHARS, MAX_TOPICS, papers_reply
from bot.plan.commands import current, plan_of

TOPIC_ARG = ArgSpec(
    "topic",
    "text",
    {
        "en": f"a topic (English or Chinese), at most {MAX_TOPIC_CHARS} characters",
        "zh": f"主题词（中文或英文），最多 {MAX_TOPIC_CHARS} 个字符",
    },
    max_length=4096,  # checked against MAX_TOPIC_CHARS with a clearer message
)


async def papers(ctx: Context) -> Reply:
    repo = ctx.port(PAPERS)
    _enrolment, day = await current(ctx)
    # In a group the list is the cohort's: ranked for its week and its members' feedback, without one
    # member's topics.
    topics = [] if ctx.in_group else await repo.list_topics(ctx.user.id)
    taste = await taste_of(ctx.services, repo, ctx.subject)
    count = ctx.args.get("N") or DEFAULT_COUNT
    return await papers_reply(repo, plan_of(ctx), day, ctx.lang, ctx.today(), topics, count, taste)


def _topic(ctx: Context) -> str | Reply:
    """The topic given, with its spacing collapsed, or the reply that asks for a usable one."""
    _ = ctx._
    topic = " ".join((ctx.args.get("topic") or "").split())
    if not topic:
        action = (ctx.command or "topics add").rpartition(" ")[2]
        return Reply(
            plain(_("Which topic? For example: /topics {action} graph neural networks", action=action)), ephemeral=True
        )
    if len(topic) > MAX_TOPIC_CHARS:
        return Reply(plain(_("A topic can be at most {limit} characters.", limit=MAX_TOPIC_CHARS)), ephemeral=True)
    return topic


async def topics_list(ctx: Context) -> Reply:
    _ = ctx._
    have = await ctx.port(PAPERS).list_topics(ctx.user.id)  # personal, also when sent in a group
    if not have:
        return Reply(
            plain(_("You have no topics yet. Add one with /topics add graph neural networks.")),
            ephemeral=ctx.in_group,
        )
    lines = [bold(_("Your topics ({count} of {limit}):", count=len(have), limit=MAX_TOPICS))]
    lines += [plain(f"• {t}") for t in have]
    return Reply(join(lines), ephemeral=ctx.in_group)


async def topics_add(ctx: Context) -> Reply:
    _ = ctx._
    topic = _topic(ctx)
    if isinstance(topic, Reply):
        return topic
    outcome = await ctx.port(PAPERS).add_topic(ctx.user.id, topic, MAX_TOPICS)
    if outcome == "duplicate":
        return Reply(plain(_("You already have the topic “{topic}”.", topic=topic)), ephemeral=True)
    if outcome == "full":
        return Reply(
            plain(
                _(
                    "You already keep {limit} topics, the most I keep. Remove one with /topics remove.",
                    limit=MAX_TOPICS,
                )
            ),
            ephemeral=True,
        )
    added = _("Added the topic “{topic}”. /papers now ranks it in.", topic=topic)
    if has_chinese(topic):
        terms = english_terms(topic)
        if terms:
            added += "\n" + _("Searched in English as: {terms}", terms=", ".join(terms))
        else:
            added += "\n" + _("I don't know this Chinese term yet, and papers are in English: try its English name.")
    return Reply(plain(added), ephemeral=ctx.in_group)


async def topics_remove(ctx: Context) -> Reply:
    _ = ctx._
    topic = _topic(ctx)
    if isinstance(topic, Reply):
        return topic
    if await ctx.port(PAPERS).remove_topic(ctx.user.id, topic):
        return Reply(plain(_("Removed the topic “{topic}”.", topic=topic)), ephemeral=ctx.in_group)
    return Reply(plain(_("You have no topic “{topic}”. /topics list shows yours.", topic=topic)), ephemeral=True)


def register(registry: Registry) -> None:
    registry.command(
        "papers",
        en="This week's arXiv papers ranked for you (default 5)",
        zh="本周与你的学习内容最相关的 arXiv 论文（默认 5 篇）",
        args=[
            ArgSpec(
                "N",
                "int",
                {"en": f"how many papers, 1 to {MAX_COUNT}", "zh": f"显示几篇，1 到 {MAX_COUNT}"},
                minimum=1,
                maximum=MAX_COUNT,
                label={"en": f"how many papers (1-{MAX_COUNT})", "zh": f"论文篇数（1 到 {MAX_COUNT}）"},
            )
        ],
    )(papers)
    registry.group(
        "topics",
        en="Your own paper topics: add, remove or list",
        zh="你自己的论文关注主题：添加、删除或列出",
        subcommands=[
            Subcommand("add", {"en": "add a topic", "zh": "添加主题"}, topics_add, (TOPIC_ARG,)),
            Subcommand("remove", {"en": "remove a topic", "zh": "删除主题"}, topics_remove, (TOPIC_ARG,)),
            Subcommand("list", {"en": "list your topics", "zh": "列出你的主题"}, topics_list),
        ],
        default="list",
    )
    feedback.register(registry)
    reading.register(registry)

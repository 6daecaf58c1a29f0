"""``ntm-bot ask``: one question, or one per stdin line with ``--jsonl``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from bot.clock import Clock
from bot.settings import Settings
from handlers.i18n import Catalogs
from handlers.qa import QA
from knowledge.loader import load_knowledge


def run_ask(args: argparse.Namespace, settings: Settings) -> int:
    kb = load_knowledge(settings.knowledge_dir)
    qa = QA(kb, Catalogs())
    today: dt.date = args.today or Clock(settings.tz, settings.today).today()
    if args.jsonl:
        for line in sys.stdin:
            question = line.rstrip("\r\n")
            answer = qa.answer(question, today, args.lang)
            sys.stdout.write(json.dumps(answer.to_json(), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        return 0
    answer = qa.answer(args.question, today, args.lang)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print(answer.text)
    return 0

"""Writes tests/golden/diff/new/: a second version of every example (and of
examples/lib/), each the kind of change a pull request makes, for the
`journey diff` tests. Run it again after changing an example:

    python tests/golden/diff/make_new_versions.py
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
OUT = Path(__file__).resolve().parent / "new"

#: file -> (old text, new text) replacements, each required to match
EDITS: dict[str, list[tuple[str, str]]] = {
    "saas_trial.journey": [
        ('{ share 70% }', '{ share 65% }'),
        ('{ share 30% }', '{ share 35% }'),
        (r'\bdemo\b', 'call'),  # a rename, every reference with it
        ('pricing     -> trial 25% [ent: 10%]', 'pricing     -> trial 30% [ent: 12%]'),
        ('60% after 30d  # signed', '60% after 45d  # signed'),
        ('    touchpoint webinar "Monthly',
         '    touchpoint chatbot "Pricing chatbot" { channel chat; owner "Product"; cost 0.20 }\n'
         '    touchpoint webinar "Monthly'),
        ('  comparison -> pricing 35%\n',
         '  comparison -> pricing 35%\n  pricing    -> chatbot 4%\n  chatbot    -> trial 20%\n'),
        ('  paying  -> paying 95% [ent: 98%] after 1mo, winback 2% [ent: 1%] after 1mo\n'
         '  winback -> paying 15% after 14d\n', '  paying  -> paying 95% [ent: 98%] after 1mo\n'),
        ('    touchpoint winback "Win-back email with 2 months at 50%" { channel email; '
         'owner "Success"; cost 0.10; emotion 2 }\n', ''),
        ('expect conversion >= 1%', 'expect conversion >= 2.6%'),
        ('pricing -> trial 32% [ent: 14%]', 'pricing -> trial 35% [ent: 14%]'),
    ],
    "b2b_webinar.journey": [
        ('cost 150 [enterprise: 400]', 'cost 180 [enterprise: 400]'),
        ('pilot    -> contract 45% [founder: 60%] after 30d',
         'pilot    -> contract 50% [founder: 60%] after 21d'),
        ('security -> pilot 75% after 7d', 'security -> pilot 80% after 7d'),
        ('expect time_to_convert <= 75d', 'expect time_to_convert <= 60d'),
    ],
    "lib/b2b_personas.journey": [
        ('{ share 50%;', '{ share 40%;'),
        ('{ share 35% }', '{ share 45% }'),
    ],
    "lib/b2b_awareness.journey": [
        ('cost 8 [enterprise: 15]', 'cost 10 [enterprise: 15]'),
    ],
    "domain_registrar.journey": [
        (r'\bcomparison\b', 'price_compare'),
        ('value 99_000; margin 100%; cost 265_000', 'value 99_000; margin 100%; cost 230_000'),
        ('entry search_ad 55% [business: 40%], price_compare 25%',
         'entry search_ad 50% [business: 40%], price_compare 30% [business: 25%]'),
        ('reminder -> renewal beta(8, 2) per customer [business: beta(23, 2) per customer] '
         'after 1mo',
         'reminder -> renewal beta(17, 3) per customer [business: beta(23, 2) per customer] '
         'after 1mo'),
    ],
    "lifecycle_activities.journey": [
        ('persona leisure  "Weekend rider"', 'persona leisure  "Weekend and holiday rider"'),
        ('test_ride -> checkout 35% [leisure: 25%] after 3d',
         'test_ride -> checkout 40% [leisure: 25%] after 3d'),
        ('expect clv(commuter) >= 550', 'expect clv(commuter) >= 700'),
    ],
    "lifecycle_five_stage.journey": [
        ('horizon 2y', 'horizon 3y'),
        ('-> checkout 55% -> first_order 70%', '-> checkout 55% -> first_order 78%'),
        ('club_join     -> member_order beta(60, 40) after 1mo',
         'club_join     -> member_order beta(70, 30) after 1mo'),
    ],
    "value_ladder.journey": [
        ('{ share 25% }', '{ share 30% }'),
        ('{ share 60% }', '{ share 55% }'),
        ('cost 97; emotion 1', 'cost 90; emotion 1'),
        ('  goal starter_guide, programme', '  goal starter_guide, programme, coaching'),
    ],
    "vn_label_printer.journey": [
        (r'\bchat_shop\b', 'nhắn_shop'),
        ('đánh_giá       -> đơn_máy_in 6%', 'đánh_giá       -> đơn_máy_in 8%'),
        ('expect ltv_cac >= 0.8', 'expect ltv_cac >= 2.5'),
    ],
}


def main() -> None:
    for name, edits in EDITS.items():
        text = (ROOT / "examples" / name).read_text(encoding="utf-8")
        for old, new in edits:
            if old.startswith(r"\b"):  # an identifier: not inside labels
                parts = re.split(r'("(?:[^"\\\n]|\\.)*")', text)
                count = 0
                for i in range(0, len(parts), 2):
                    parts[i], found = re.subn(old, new, parts[i])
                    count += found
                text = "".join(parts)
            else:
                count = text.count(old)
                text = text.replace(old, new)
            if not count:
                raise SystemExit(f"{name}: `{old}` not found")
        target = OUT / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

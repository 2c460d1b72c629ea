"""Two programs side by side, line by line, marking what changed.

After training, the program a user gave and the one a restart learned from
it are both controllers, decompiled to the same form (`Decompiled.code`:
declarations, then `row: statement`), so their lines pair up. difflib
aligns them, and the mark between the columns is `diff --side-by-side`'s:
blank where the lines are the same, `|` where one became the other, `<`
for a line only the first has, `>` for one only the second has.
"""

import difflib
import itertools
from typing import Sequence, Tuple

SAME, CHANGED, ONLY_BEFORE, ONLY_AFTER = " ", "|", "<", ">"


def aligned(before: Sequence[str], after: Sequence[str]
            ) -> Tuple[Tuple[str, str, str], ...]:
  """`(line before, mark, line after)` rows; "" where a side has none."""
  rows = []
  matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
  for tag, start, end, other_start, other_end in matcher.get_opcodes():
    if tag == "equal":
      rows.extend((line, SAME, line) for line in before[start:end])
      continue
    for old, new in itertools.zip_longest(before[start:end],
                                          after[other_start:other_end]):
      mark = (CHANGED if old is not None and new is not None else
              ONLY_BEFORE if old is not None else ONLY_AFTER)
      rows.append((old or "", mark, new or ""))
  return tuple(rows)


def side_by_side(before: Sequence[str], after: Sequence[str],
                 titles: Tuple[str, str]) -> str:
  """The two programs in two columns under their `titles`, marked, and a
  last line that counts the changes: lines changed, dropped (only before)
  and added (only after)."""
  rows = aligned(before, after)
  width = max(len(line) for line in (titles[0], *before))
  ruler = ("-" * width, " ", "-" * max(len(line) for line in
                                       (titles[1], *after)))
  lines = [f"{old:<{width}} {mark} {new}".rstrip()
           for old, mark, new in ((titles[0], " ", titles[1]), ruler, *rows)]
  counts = {mark: sum(row[1] == mark for row in rows)
            for mark in (CHANGED, ONLY_BEFORE, ONLY_AFTER)}
  lines.append(f"lines changed: {counts[CHANGED]} ({CHANGED}), dropped: "
               f"{counts[ONLY_BEFORE]} ({ONLY_BEFORE}), added: "
               f"{counts[ONLY_AFTER]} ({ONLY_AFTER})")
  return "\n".join(lines)

"""Find the same customer entered twice, then merge a pair.

Run: python examples/find_duplicates.py
"""

from datetime import datetime, timezone

from oppcore import Lead, find_duplicates, merge_records

UTC = timezone.utc  # datetime.UTC needs Python 3.11

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

leads = [
    Lead(id="L-1", name="张伟", captured_at=T0, email="Zhang.Wei@Bytedance.com ",
         company="北京字节跳动科技有限公司", notes="Met at the Beijing expo."),
    Lead(id="L-2", name="张 伟", captured_at=T0.replace(day=5),
         email="zhang.wei@bytedance.com", phone="+86 138-0013-8000",
         company="北京字节跳动科技", notes="Called back about pricing."),
    Lead(id="L-3", name="Wang Fang", captured_at=T0, phone="13800138001",
         email="wangfang@qq.com", company="ACME Co., Ltd."),
    Lead(id="L-4", name="Li Lei", captured_at=T0, email="lilei@qq.com", company="Acme"),
]

for candidate in find_duplicates(leads):
    first, second = candidate.ids
    print(f"{first} ~ {second}: score {candidate.score:.2f}")
    for reason in candidate.reasons:
        print(f"  {reason.code} (+{reason.weight}): {reason.message}")

best = find_duplicates(leads)[0]
result = merge_records(best.first, best.second, at=datetime(2026, 3, 6, 10, 0, tzinfo=UTC),
                       by="sales-admin")
print(f"kept {result.survivor_id}, merged {', '.join(result.merged_ids)}")
for outcome in result.conflicts:
    print(f"  {outcome.field}: kept {outcome.kept!s:.40}, dropped {outcome.dropped}")
print("notes:")
print(result.record.notes)

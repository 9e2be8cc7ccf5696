"""Gold answers for classification may be written as a bare label or a list of labels."""

from __future__ import annotations

import pytest

from handloom.kinds.base import KindError
from handloom.kinds.classification import Classification


def test_single_label_gold() -> None:
    kind = Classification({"labels": ["spam", "ham"]})
    assert kind.coerce_gold("spam") == {"label": "spam"}
    assert kind.coerce_gold({"label": "ham"}) == {"label": "ham"}
    for bad in ("eggs", ["spam"], 3):
        with pytest.raises(KindError) as exc:
            kind.coerce_gold(bad)
        assert exc.value.field == "gold"


def test_multi_label_gold() -> None:
    kind = Classification({"labels": ["spam", "ham", "eggs"], "multi_label": True})
    assert kind.coerce_gold(["spam", "eggs"]) == {"labels": ["spam", "eggs"]}
    assert kind.coerce_gold("ham") == {"labels": ["ham"]}
    assert kind.coerce_gold([]) == {"labels": []}
    for bad in (["spam", "spam"], ["bacon"], {"label": "spam"}):
        with pytest.raises(KindError) as exc:
            kind.coerce_gold(bad)
        assert exc.value.field == "gold"

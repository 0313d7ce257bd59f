import pytest

from shigu.core import COCO80, InputError, ShiguError, resolve_classes


def test_resolve_classes_names_and_ids() -> None:
    assert resolve_classes("person, car", COCO80) == [0, 2]
    assert resolve_classes(["Person", "2"], COCO80) == [0, 2]
    assert resolve_classes(None, COCO80) is None


def test_unknown_class_lists_known_ones() -> None:
    with pytest.raises(InputError, match="unknown class 'persn'") as info:
        resolve_classes("persn", COCO80)
    assert "person" in info.value.one_line()


def test_one_line_has_message_and_hint() -> None:
    err = ShiguError("file not found: x.mp4.", "check the path")
    assert err.one_line() == "file not found: x.mp4. Check the path"
    assert "\n" not in err.one_line()

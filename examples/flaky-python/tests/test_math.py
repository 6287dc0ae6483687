def test_addition():
    assert 1 + 1 == 2


def test_division():
    assert 7 // 2 == 3

"""Notebook 07 Exercise 5 (``overfitting.judge_settings``) discriminates: a setting passes only when,
after all 500 epochs, its validation loss comes within 15 % of the unregularized network's best
epoch on the circles (30 % on the harder hidden draw) without underfitting; a too weak and a too
strong setting fail with a message that says which way to move. Figures measured (float64, CPU):
the unregularized best is 0.305 (draw 0, epoch 58) and 0.319 (draw 1); λ = 0.0001 ends at 0.93 and
0.97, λ = 0.1 at 46-48 % accuracy, the worked λ = 0.005 at 0.30-0.32 (0.99 of the best)."""

import pytest

from course_lib.lessons import overfitting


@pytest.mark.parametrize("seed", [0, 1])
def test_the_worked_setting_passes_the_visible_draws(seed):
    passed, message = overfitting.judge_settings(0.005, 0.0, seed)
    assert passed, message


def test_the_worked_setting_passes_the_hidden_draw():
    passed, message = overfitting.judge_settings(0.005, 0.0, 3, factor=1.3, min_accuracy=0.70)
    assert passed, message


@pytest.mark.parametrize("seed", [0, 1])
def test_a_too_weak_setting_is_told_to_regularize_more(seed):
    passed, message = overfitting.judge_settings(0.0001, 0.0, seed)
    assert not passed
    assert "still overfits" in message and "larger" in message and "smaller" not in message


@pytest.mark.parametrize("seed", [0, 1])
def test_a_too_strong_setting_is_told_to_regularize_less(seed):
    passed, message = overfitting.judge_settings(0.1, 0.0, seed)
    assert not passed
    assert "underfits" in message and "smaller" in message and "larger" not in message

"""KeyQueue: normalised initial keys, FIFO order, wrap-around for any batch size, snapshot isolation."""

from __future__ import annotations

import pytest
import torch

from skyssl.models.queue import KeyQueue


def batch(start: int, n: int, dim: int = 2) -> torch.Tensor:
    """Keys whose first coordinate is a serial number, so positions are easy to read back."""
    keys = torch.zeros(n, dim)
    keys[:, 0] = torch.arange(start, start + n, dtype=torch.float32)
    return keys


def serials(queue: KeyQueue) -> list[int]:
    return queue.keys[:, 0].long().tolist()


def fifo(queue: KeyQueue) -> list[int]:
    """Serial numbers from oldest to newest: storage order rotated to start at ptr."""
    ptr = int(queue.ptr)
    order = serials(queue)
    return order[ptr:] + order[:ptr]


def test_initial_keys_are_unit_vectors_and_buffers_are_saved() -> None:
    queue = KeyQueue(dim=16, size=10)
    torch.testing.assert_close(queue.keys.norm(dim=1), torch.ones(10))
    assert set(queue.state_dict()) == {"keys", "ptr"}
    assert queue.keys.shape == (10, 16) and int(queue.ptr) == 0 and queue.ptr.dtype == torch.long


def test_wraps_when_size_is_not_a_multiple_of_the_batch() -> None:
    queue = KeyQueue(dim=2, size=7)
    queue.enqueue(batch(1, 3))
    queue.enqueue(batch(4, 3))
    assert serials(queue)[:6] == [1, 2, 3, 4, 5, 6] and int(queue.ptr) == 6
    queue.enqueue(batch(7, 3))  # 7 → slot 6, 8 → slot 0, 9 → slot 1
    assert serials(queue) == [8, 9, 3, 4, 5, 6, 7] and int(queue.ptr) == 2
    assert fifo(queue) == [3, 4, 5, 6, 7, 8, 9]


def test_fifo_holds_the_newest_keys_over_many_uneven_batches() -> None:
    queue = KeyQueue(dim=2, size=10)
    serial = 1
    for n in [3, 4, 1, 6, 5, 2, 9]:
        queue.enqueue(batch(serial, n))
        serial += n
        assert int(queue.ptr) == (serial - 1) % 10
    assert fifo(queue) == list(range(serial - 10, serial))


def test_batch_larger_than_queue_keeps_its_newest_keys() -> None:
    queue = KeyQueue(dim=2, size=4)
    queue.enqueue(batch(1, 1))
    queue.enqueue(batch(2, 6))  # 7 keys in all: the newest 4 are 4..7
    assert int(queue.ptr) == 3
    assert fifo(queue) == [4, 5, 6, 7]


def test_snapshot_is_a_copy_unaffected_by_later_enqueues() -> None:
    queue = KeyQueue(dim=2, size=4)
    snapshot = queue.snapshot()
    queue.enqueue(batch(1, 2))
    assert not torch.equal(snapshot, queue.keys)
    assert not snapshot.requires_grad


def test_wrong_shape_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"\(B, 2\)"):
        KeyQueue(dim=2, size=4).enqueue(torch.zeros(3, 5))

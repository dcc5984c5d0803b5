"""Ids: ZITADEL-shaped decimal strings of 18 digits, ordered by creation time (sonyflake layout)."""

from __future__ import annotations

import threading

import pytest

from bergfried.domain.ids import EPOCH_SECONDS, IdGenerator, new_id

NOW = 1_760_000_000.0  # 2025-10-09, a time of today's ids
_TIME_SHIFT = 8 + 16  # sequence bits + machine bits


class FakeClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def time_unit(value: int) -> int:
    return value >> _TIME_SHIFT


def sequence(value: int) -> int:
    return (value >> 16) & 0xFF


def test_new_id_is_a_string_of_18_decimal_digits() -> None:
    for _ in range(200):
        value = new_id()
        assert isinstance(value, str)
        assert len(value) == 18
        assert value.isdigit()


@pytest.mark.parametrize("now", [NOW, 1_900_000_000.0, 2_100_000_000.0])
def test_ids_have_18_digits_for_years_to_come(now: float) -> None:
    generator = IdGenerator(machine_id=0xFFFF, clock=FakeClock(now))
    assert len(generator.next()) == 18


def test_id_carries_the_creation_time_in_10ms_units_since_the_epoch() -> None:
    generator = IdGenerator(machine_id=7, clock=FakeClock(NOW))
    assert time_unit(generator.next_int()) == int((NOW - EPOCH_SECONDS) * 100)


def test_id_carries_the_machine_id_in_the_low_16_bits() -> None:
    generator = IdGenerator(machine_id=0xABCD, clock=FakeClock())
    assert all(generator.next_int() & 0xFFFF == 0xABCD for _ in range(300))


@pytest.mark.parametrize("machine_id", [-1, 1 << 16, 10**6])
def test_machine_id_must_fit_in_16_bits(machine_id: int) -> None:
    with pytest.raises(ValueError, match="16 bits"):
        IdGenerator(machine_id=machine_id)


def test_ids_are_ordered_by_creation_time_as_strings_and_as_numbers() -> None:
    clock = FakeClock()
    generator = IdGenerator(machine_id=0xFFFF, clock=clock)
    produced = []
    for _ in range(500):
        produced.append(generator.next())
        clock.now += 0.013
    assert produced == sorted(produced)
    assert [int(v) for v in produced] == sorted(int(v) for v in produced)
    assert len(set(produced)) == len(produced)


def test_later_time_beats_higher_machine_id_in_ordering() -> None:
    early = IdGenerator(machine_id=0xFFFF, clock=FakeClock(NOW)).next()
    late = IdGenerator(machine_id=0, clock=FakeClock(NOW + 0.01)).next()
    assert early < late


def test_ids_within_one_time_unit_count_up_the_sequence() -> None:
    generator = IdGenerator(machine_id=1, clock=FakeClock())
    values = [generator.next_int() for _ in range(10)]
    assert [sequence(v) for v in values] == list(range(10))
    assert len({time_unit(v) for v in values}) == 1


def test_more_than_256_ids_in_one_time_unit_borrow_the_next_unit() -> None:
    generator = IdGenerator(machine_id=1, clock=FakeClock())
    values = [generator.next_int() for _ in range(600)]
    assert len(set(values)) == 600
    assert values == sorted(values)
    first_unit = time_unit(values[0])
    assert time_unit(values[255]) == first_unit
    assert time_unit(values[256]) == first_unit + 1
    assert sequence(values[256]) == 0


def test_clock_going_back_never_repeats_or_reorders_ids() -> None:
    clock = FakeClock()
    generator = IdGenerator(machine_id=42, clock=clock)
    before = [generator.next_int() for _ in range(5)]
    clock.now -= 30.0  # NTP step back by half a minute
    after = [generator.next_int() for _ in range(300)]
    everything = before + after
    assert everything == sorted(everything)
    assert len(set(everything)) == len(everything)
    assert min(after) > max(before)


def test_clock_catching_up_after_going_back_continues_in_order() -> None:
    clock = FakeClock()
    generator = IdGenerator(machine_id=42, clock=clock)
    first = generator.next_int()
    clock.now -= 5.0
    during = generator.next_int()
    clock.now += 10.0
    later = generator.next_int()
    assert first < during < later
    assert time_unit(later) == int((clock.now - EPOCH_SECONDS) * 100)


@pytest.mark.parametrize("clock", [None, FakeClock()], ids=["real-clock", "frozen-clock"])
def test_ids_are_unique_under_concurrent_threads(clock: FakeClock | None) -> None:
    generator = IdGenerator() if clock is None else IdGenerator(clock=clock)
    per_thread = 2_000
    results: list[list[str]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        mine = [generator.next() for _ in range(per_thread)]
        with lock:
            results.append(mine)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [value for chunk in results for value in chunk]
    assert len(everything) == 8 * per_thread
    assert len(set(everything)) == len(everything)
    for chunk in results:  # each thread sees its own ids rising
        assert chunk == sorted(chunk, key=int)


def test_process_wide_generator_gives_unique_rising_ids() -> None:
    values = [new_id() for _ in range(1_000)]
    assert len(set(values)) == len(values)
    assert values == sorted(values)

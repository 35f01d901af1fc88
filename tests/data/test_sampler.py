import torch

from e2edrive.data.sampler import ShardSpec, StepSampler


def test_ranks_read_disjoint_shards_of_the_same_global_batches():
    ranks = [StepSampler(100, ShardSpec(8, world_size=2, rank=r), seed=3) for r in range(2)]
    for step in range(10):
        a, b = (s.micro_batches(step)[0] for s in ranks)
        assert not set(a) & set(b)
        assert sorted(a + b) == sorted(ranks[0].global_batch(step).tolist())


def test_one_process_accumulating_sees_what_n_processes_see():
    alone = StepSampler(100, ShardSpec(8, world_size=1, accumulate=2), seed=3)
    ranks = [StepSampler(100, ShardSpec(8, world_size=2, rank=r), seed=3) for r in range(2)]
    for step in range(20):
        assert alone.micro_batches(step) == [r.micro_batches(step)[0] for r in ranks]


def test_an_epoch_visits_every_sample_once_and_the_position_is_the_step():
    s = StepSampler(64, ShardSpec(8), seed=0)
    seen = [i for step in range(s.steps_per_epoch) for i in s.micro_batches(step)[0]]
    assert sorted(seen) == list(range(64))
    assert next(iter(s.iter_from(5))) == s.micro_batches(5)[0]


def test_weights_are_honoured():
    weights = torch.zeros(50, dtype=torch.double)
    weights[[3, 7]] = 1.0
    s = StepSampler(50, ShardSpec(16), seed=1, weights=weights)
    assert set(s.micro_batches(0)[0]) <= {3, 7}

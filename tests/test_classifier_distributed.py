"""Distributed training: `torchrun --nproc_per_node=2 -m heritage_kg.cli train` on the CPU (gloo,
loopback) trains each rank on its shard with averaged gradients, writes one run folder from rank
0, and reaches the metrics of one process on the same config."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from classifier_data import synthetic_rows, write_kg_features, write_text_features, write_training_set

from heritage_kg.learning.distributed import Workers
from heritage_kg.learning.run_config import RunConfig
from heritage_kg.learning.training import train


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_shards_of_the_ranks_are_the_batches_of_one_process():
    order = torch.randperm(10, generator=torch.Generator().manual_seed(0))
    ranks = [Workers(rank, 3) for rank in range(3)]
    shards = [w.shard(order) for w in ranks]
    assert [len(s) for s in shards] == [4, 4, 4]  # padded from 10 to 12 with the order's own start
    assert sorted(torch.cat(shards).tolist()) == sorted(order.tolist() + order[:2].tolist())
    # batch k of every rank, taken together, is batch k of the padded order in one process
    size = ranks[0].batch_size(6)
    assert size == 2
    padded = torch.cat([order, order[:2]])
    for k in range(2):
        together = sorted(torch.cat([s[k * size:(k + 1) * size] for s in shards]).tolist())
        assert together == sorted(padded[k * 6:(k + 1) * 6].tolist())
    assert Workers().shard(order) is order


def test_two_processes_on_gloo_reach_the_metrics_of_one(tmp_path):
    torch.set_num_threads(1)
    rows = synthetic_rows(200)
    dataset = write_training_set(tmp_path / "datasets" / "synthetic", rows)
    text, kg = write_text_features(tmp_path / "text", rows), write_kg_features(tmp_path / "kg", rows, "synthetic")

    def config(name: str) -> RunConfig:
        # no dropout of either kind: the ranks' batches are one process's, so only the order of
        # float sums differs between the two runs
        return RunConfig.from_dict({
            "name": name, "seed": 1,
            "data": {"dataset": str(dataset), "text": str(text), "kg": str(kg)},
            "model": {"name": "fusion", "inputs": ["text", "kg", "medium", "artist"], "hidden": 16,
                      "dropout": 0.0, "modality_dropout": 0.0},
            "optimizer": {"name": "Adam", "lr": 0.01, "weight_decay": 0.0},
            "training": {"epochs": 4, "patience": 10, "batch_size": 32, "threads": 1}})

    single = train(config("single"), models_dir=tmp_path / "models")
    config("ddp").save(tmp_path / "ddp.toml")
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "HERITAGE_KG_MODELS_DIR": str(tmp_path / "models"), "OMP_NUM_THREADS": "1",
           "GLOO_SOCKET_IFNAME": "lo", "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")])}
    launched = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
         "--master_addr=127.0.0.1", f"--master_port={_free_port()}",
         "-m", "heritage_kg.cli", "train", "--config", str(tmp_path / "ddp.toml"), "--no-register"],
        env=env, capture_output=True, text=True, timeout=120)
    assert launched.returncode == 0, launched.stderr[-3000:]
    assert launched.stdout.count("ddp: 4 epochs") == 1  # rank 0 alone reports

    folder = tmp_path / "models" / "ddp"
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["training"]["processes"] == 2 and single.training["processes"] == 1
    assert not (folder / "checkpoint.safetensors").exists()
    for policy in ("threshold_0.5", "tuned"):
        one, two = single.metrics[policy]["test"], metrics[policy]["test"]
        assert two["micro_f1"] == pytest.approx(one.micro_f1, abs=0.02)
        assert two["mean_task_f1"] == pytest.approx(one.mean_task_f1, abs=0.02)
    # the two runs learnt the same thing: their validation losses agree epoch by epoch
    for a, b in zip(single.training["history"], metrics["training"]["history"], strict=True):
        assert b["validation_loss"] == pytest.approx(a["validation_loss"], rel=1e-3)
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-3)
    assert single.metrics["tuned"]["test"].micro_f1 > 0.6  # and it learnt something

"""`train(config) -> ClassificationRun`: the classifier's training loop, readable top to bottom.

Features are tensors built once (`learning/inputs.py`); each epoch shuffles with a seeded
generator, steps the optimizer over mini-batches, scores the validation loss and keeps the best
weights; training stops after `patience` epochs without improvement. A checkpoint is written
after every epoch, so a run started again with the same config resumes where it stopped, and ends
exactly where an uninterrupted run would. At the end, per-label thresholds are tuned on the
validation split and every split is scored at 0.5 and tuned."""

from __future__ import annotations

import inspect
import resource
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from class_resolver import ClassResolver

from heritage_kg.errors import ConfigError, TrainingError
from heritage_kg.learning.checkpoints import (
    TrainingState,
    checkpoint_digest,
    has_checkpoint,
    load_checkpoint,
    remove_checkpoint,
    save_checkpoint,
)
from heritage_kg.learning.datasets import SPLITS, TrainingSet, open_dataset
from heritage_kg.learning.distributed import Workers, join_workers
from heritage_kg.learning.evaluation import SplitMetrics, score_splits
from heritage_kg.learning.inputs import AssembledInputs, SplitInputs, Vocabularies, assemble_inputs, load_features
from heritage_kg.learning.models import LossWeights, build_model, model_resolver
from heritage_kg.learning.models.contextnet import ContextNet
from heritage_kg.learning.run_config import RunConfig, Trunk
from heritage_kg.learning.runs import ClassificationRun, predict_probabilities, save_run
from heritage_kg.learning.taxonomy import LabelSpace, label_space, tune_thresholds

optimizer_resolver: ClassResolver[torch.optim.Optimizer] = ClassResolver.from_subclasses(
    torch.optim.Optimizer, skip={torch.optim.LBFGS, torch.optim.SparseAdam})

EpochCallback = Callable[[int, dict], None]


def train(config: RunConfig, *, models_dir: Path, datasets_dir: Path | None = None, progress=None,
          on_epoch_end: EpochCallback | None = None) -> ClassificationRun:
    """Trains (or resumes) the run `config` describes into `models_dir/<config.name>`; the config's
    dataset is a folder, or a name under `datasets_dir`. Under torchrun, this process's part of a
    data-parallel run (learning/distributed.py)."""
    workers = join_workers()
    if config.training.threads:
        torch.set_num_threads(config.training.threads)
    torch.manual_seed(config.seed)
    training_set = open_dataset(config.data.dataset, datasets_dir)
    space = label_space(training_set)
    # Names and task weights are checked before any feature is read.
    model_class = _model_class(config.model.name)
    optimizer_class = _optimizer_class(config)
    weights = _loss_weights(config, space)
    folder = Path(models_dir) / config.name
    _check_run_folder(folder, config)
    inputs = _assemble(config, training_set, visual=model_class is ContextNet)
    model = build_model(config.model.name, _model_arguments(config, space, inputs, visual=model_class is ContextNet))
    optimizer = make_optimizer(optimizer_class, config, model)
    label_task = torch.tensor(space.label_task, dtype=torch.long)
    generator = torch.Generator().manual_seed(config.seed)

    state, best = _start_or_resume(folder, config, model, optimizer, generator)
    network = workers.wrap(model)  # DDP over `model` when distributed; its parameters are model's
    batch_size = workers.batch_size(config.training.batch_size)
    progress = progress if workers.writes else None
    train_rows, validation = inputs.splits["train"], inputs.splits["validation"]
    clock_start, started_at = time.perf_counter(), datetime.now(UTC)
    task = progress.add_task(f"train {config.name}", total=config.training.epochs, completed=state.epoch) \
        if progress else None
    while state.epoch < config.training.epochs and not state.stopped_early:
        started = time.perf_counter()
        model.train()
        # the same seeded order on every rank; each takes its shard of it
        order = workers.shard(torch.randperm(len(train_rows), generator=generator))
        losses = []
        for start in range(0, len(order), batch_size):
            batch = train_rows.batch(order[start:start + batch_size])
            loss = model.loss(network(batch), batch, weights, label_task)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        validation_loss = evaluation_loss(model, validation, weights, label_task, config.training.batch_size)
        state.epoch += 1
        record = {"epoch": state.epoch, "train_loss": _mean_over_workers(workers, float(np.mean(losses))),
                  "validation_loss": validation_loss,
                  "seconds": round(time.perf_counter() - started, 3)}
        state.history.append(record)
        if validation_loss < state.best_loss:
            state.best_loss, state.best_epoch, state.epochs_without_improvement = validation_loss, state.epoch, 0
            best = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
        else:
            state.epochs_without_improvement += 1
            state.stopped_early = state.epochs_without_improvement >= config.training.patience
        if workers.writes:
            save_checkpoint(folder, state, model, best, optimizer, generator)
        if progress:
            progress.update(task, completed=state.epoch,
                            description=f"train {config.name} (val loss {validation_loss:.4f})")
        if on_epoch_end is not None:
            on_epoch_end(state.epoch, record)

    model.load_state_dict(best)
    run = _finish(config, folder, model, best, space, inputs, state, time.perf_counter() - clock_start, started_at,
                  workers)
    if workers.writes:
        remove_checkpoint(folder)
    workers.barrier()  # no rank returns before the run folder is written
    return run


def _mean_over_workers(workers: Workers, value: float) -> float:
    """A rank's mean, averaged over the ranks (their shards are the same size)."""
    if not workers.distributed:
        return value
    import torch.distributed as dist

    total = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(total)
    return float(total) / workers.world_size


def _model_class(name: str):
    try:
        return model_resolver.lookup(name)
    except (KeyError, ValueError):
        raise ConfigError(f"model.name: no classifier called {name!r}; known: "
                          f"{', '.join(sorted(model_resolver.lookup_dict))}") from None


def score_on_dataset(run: ClassificationRun, training_set: TrainingSet) -> dict[str, dict[str, SplitMetrics]]:
    """A trained run (its model loaded) scored on the test split of another dataset with its label
    space, at 0.5 and at the run's tuned thresholds: an all-media model on a medium subset's
    held-out artworks (experiment B), its inputs encoded with the run's own vocabularies."""
    if tuple(label_space(training_set).labels) != tuple(run.space.labels):
        raise TrainingError(f"dataset {training_set.name} has other labels than {run.name}'s dataset "
                            f"{run.space.dataset}: the model cannot be scored on it")
    test = _assemble(run.config, training_set, visual=isinstance(run.model, ContextNet),
                     vocabularies=run.vocabularies).splits["test"]
    probabilities = predict_probabilities(run.model, test, max(run.config.training.batch_size, 256))
    return score_splits({"test": probabilities}, {"test": test.tensors["targets"].numpy()}, run.thresholds, run.space)


def _assemble(config: RunConfig, training_set: TrainingSet, *, visual: bool,
              vocabularies: Vocabularies | None = None) -> AssembledInputs:
    data, model = config.data, config.model
    if len(training_set.table) == 0:
        raise TrainingError(f"dataset {training_set.name} has no artwork; rebuild it with 'heritage-kg dataset build'")
    raw_images = visual and model.trunk == Trunk.TRAINED
    inputs = ["image"] if visual else list(model.inputs)
    context = list(model.context) if visual else []
    needed = {name for name in (*inputs, *context) if name in ("text", "kg")}
    if "image" in inputs and not raw_images:
        needed.add("images")
    features = {kind: load_features(getattr(data, kind), kind, training_set.name) for kind in sorted(needed)}
    if raw_images and not data.image_folder:
        raise TrainingError("a trained trunk reads the images themselves: set data.image_folder to the folder "
                            "'heritage-kg fetch-images' filled")
    assembled = assemble_inputs(training_set, inputs, context, features=features,
                                image_folder=Path(data.image_folder) if raw_images else None,
                                image_size=data.image_size, required="image" if visual else None,
                                vocabularies=vocabularies)
    if vocabularies is not None:  # scoring a trained model: only its test split is read
        return assembled
    for split in ("train", "validation"):
        if len(assembled.splits[split]) == 0:
            lacking = f" with an image ({assembled.left_out[split]} without)" if visual else ""
            raise TrainingError(f"the {split} split of dataset {training_set.name} has no artwork{lacking}: "
                                "nothing to train or validate on")
    return assembled


def _model_arguments(config: RunConfig, space: LabelSpace, inputs: AssembledInputs, *, visual: bool) -> dict:
    label_task = list(space.label_task)
    if visual:
        trained = config.model.trunk == Trunk.TRAINED
        return {"label_task": label_task, "backbone": config.model.backbone if trained else "precomputed",
                "weights": config.model.weights if trained else "none", "context": list(config.model.context),
                "context_dims": [inputs.dims[name] for name in config.model.context],
                "image_dim": inputs.dims["image"] if not trained else 0}
    return {"label_task": label_task, "input_dims": {name: inputs.dims[name] for name in config.model.inputs},
            "artists": len(inputs.vocabularies.artists), "words": len(inputs.vocabularies.words),
            "groups": len(inputs.vocabularies.catalogue_groups), "periods": len(inputs.vocabularies.periods),
            "hidden": config.model.hidden, "dropout": config.model.dropout,
            "modality_dropout": config.model.modality_dropout, "wide": config.model.wide}


def _optimizer_class(config: RunConfig) -> type[torch.optim.Optimizer]:
    try:
        cls = optimizer_resolver.lookup(config.optimizer.name)
    except (KeyError, ValueError):
        raise ConfigError(f"optimizer.name: no optimizer called {config.optimizer.name!r}; known: "
                          f"{', '.join(sorted(optimizer_resolver.lookup_dict))}") from None
    unknown = [key for key in config.optimizer.options if key not in inspect.signature(cls).parameters]
    if unknown:
        raise ConfigError(f"optimizer.options: {cls.__name__} takes no {unknown[0]!r}")
    return cls


def make_optimizer(cls: type[torch.optim.Optimizer], config: RunConfig, model: torch.nn.Module
                   ) -> torch.optim.Optimizer:
    """The optimizer with lr, weight decay, and momentum where it takes one, plus its options."""
    accepted = inspect.signature(cls).parameters
    arguments = {"lr": config.optimizer.lr, "weight_decay": config.optimizer.weight_decay,
                 "momentum": config.optimizer.momentum, **config.optimizer.options}
    return cls(model.parameters(), **{key: value for key, value in arguments.items() if key in accepted})


def _loss_weights(config: RunConfig, space: LabelSpace) -> LossWeights:
    """lambda_t by task label or IRI; tasks left out weigh 0; none given: equal, summing to 1."""
    given = config.loss.task_weights
    if given:
        names = {name.casefold(): t for t, name in enumerate(space.task_names)} | \
                {iri.casefold(): t for t, iri in enumerate(space.tasks)}
        for key in given:
            if key.casefold() not in names:
                raise ConfigError(f"loss.task_weights: no task {key!r}; the tasks are {', '.join(space.task_names)}")
        per_task = [0.0] * len(space.tasks)
        for key, weight in given.items():
            per_task[names[key.casefold()]] = weight
        return LossWeights(config.loss.lambda_c, config.loss.lambda_e, tuple(per_task))
    return LossWeights(config.loss.lambda_c, config.loss.lambda_e)


def evaluation_loss(model: torch.nn.Module, inputs: SplitInputs, weights: LossWeights, label_task: torch.Tensor,
                    batch_size: int) -> float:
    """The loss over a whole split, in eval mode, each batch weighted by its rows."""
    model.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(inputs), batch_size):
            rows = torch.arange(start, min(start + batch_size, len(inputs)))
            batch = inputs.batch(rows)
            total += float(model.loss(model(batch), batch, weights, label_task)) * len(rows)
    model.train()
    return total / max(len(inputs), 1)


def _check_run_folder(folder: Path, config: RunConfig) -> None:
    """A run folder may be new, or hold an unfinished run of this very config (to resume)."""
    if has_checkpoint(folder) and checkpoint_digest(folder) != config.digest:
        raise TrainingError(f"{folder} holds an unfinished run of another config; give this run another name, "
                            "or remove that folder to start over")
    if not has_checkpoint(folder) and (folder / "metrics.json").exists():
        raise TrainingError(f"a finished run is already in {folder}; give this run another name "
                            "('heritage-kg models show' describes the old one)")


def _start_or_resume(folder: Path, config: RunConfig, model, optimizer, generator):
    if has_checkpoint(folder):
        return load_checkpoint(folder, model, optimizer, generator)
    return TrainingState(config.digest), {name: t.detach().clone() for name, t in model.state_dict().items()}


def _finish(config: RunConfig, folder: Path, model, best: dict, space: LabelSpace, inputs: AssembledInputs,
            state: TrainingState, seconds: float, started_at: datetime, workers: Workers) -> ClassificationRun:
    batch = max(config.training.batch_size, 256)
    probabilities = {split: predict_probabilities(model, inputs.splits[split], batch) for split in SPLITS}
    targets = {split: inputs.splits[split].tensors["targets"].numpy() for split in SPLITS}
    thresholds = tune_thresholds(probabilities["validation"], targets["validation"])
    epoch_seconds = [record["seconds"] for record in state.history]
    training = {"epochs_run": state.epoch, "best_epoch": state.best_epoch, "best_validation_loss": state.best_loss,
                "stopped_early": state.stopped_early, "history": state.history,
                "seconds_per_epoch": float(np.mean(epoch_seconds)) if epoch_seconds else 0.0,
                "seconds": float(sum(epoch_seconds)), "seconds_this_session": round(seconds, 3),
                # this session's start and end (a resumed run's earlier sessions are in `history`)
                "started": started_at.isoformat(), "ended": datetime.now(UTC).isoformat(),
                # ru_maxrss is in kilobytes on Linux: the process's peak, features included
                "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "rows": {split: len(inputs.splits[split]) for split in SPLITS}, "left_out": inputs.left_out,
                "config_digest": config.digest, "processes": workers.world_size}
    run = ClassificationRun(folder, config, space, thresholds, model_resolver.normalize_cls(type(model)),
                            model.arguments, inputs.vocabularies,
                            score_splits(probabilities, targets, thresholds, space), training, model.eval())
    if workers.writes:
        save_run(run, best)
    return run

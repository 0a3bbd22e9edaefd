"""The classifier's parts: loss weights, context masks, modality dropout, heads, the ResNet-50
trunk, the taxonomy constraint, threshold tuning and the metrics of method.md section 5."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from heritage_kg.learning.evaluation import binary_scores, evaluate
from heritage_kg.learning.models import ContextNet, FusionNet, LossWeights, build_model
from heritage_kg.learning.models.losses import classification_loss
from heritage_kg.learning.taxonomy import (
    LabelSpace,
    consistent_decisions,
    consistent_probabilities,
    task_matrix,
    tune_thresholds,
)

LABEL_TASK = [0, 0, 1]  # two labels in task 0, one in task 1


@pytest.fixture(autouse=True)
def _seeded():
    torch.set_num_threads(1)
    torch.manual_seed(0)


def visual_batch(rows: int = 6, context_dim: int = 4) -> dict[str, torch.Tensor]:
    return {"image": torch.randn(rows, 3, 16, 16), "targets": torch.randint(0, 2, (rows, 3)).float(),
            "text": torch.randn(rows, context_dim), "text_mask": torch.tensor([True, False] * (rows // 2))}


# --- the loss


@torch.no_grad()  # values only; no gradient is asked for
def test_the_loss_is_the_methods_weighted_sum():
    model = ContextNet(LABEL_TASK, backbone="tiny", context=["text"], context_dims=[4])
    batch = visual_batch()
    output = model(batch)
    weights = LossWeights(classification=0.9, embedding=0.1, tasks=(0.25, 0.75))
    label_task = torch.tensor(LABEL_TASK)

    bce = torch.nn.functional.binary_cross_entropy_with_logits(output.logits, batch["targets"], reduction="none")
    task0, task1 = bce[:, :2].mean(), bce[:, 2].mean()
    kept = batch["text_mask"]
    smooth_l1 = torch.nn.functional.smooth_l1_loss(output.projection[kept], batch["text"][kept])
    expected = 0.9 * (0.25 * task0 + 0.75 * task1) + 0.1 * smooth_l1
    assert float(model.loss(output, batch, weights, label_task)) == pytest.approx(float(expected), rel=1e-5)
    # Default lambda_t: equal, summing to 1 (0.5 each here).
    assert float(classification_loss(output.logits, batch["targets"], label_task, LossWeights().of_tasks(2))) == \
        pytest.approx(float(0.5 * task0 + 0.5 * task1), rel=1e-5)


def test_a_zero_weight_silences_its_part_of_the_network():
    model = ContextNet(LABEL_TASK, backbone="tiny", context=["text"], context_dims=[4])
    batch = visual_batch()
    model.loss(model(batch), batch, LossWeights(embedding=0.0, tasks=(1.0, 0.0)), torch.tensor(LABEL_TASK)).backward()
    assert model.heads.heads[0].weight.grad.abs().sum() > 0
    assert model.heads.heads[1].weight.grad.abs().sum() == 0   # lambda_t = 0 for task 1
    assert model.encoder.weight.grad.abs().sum() == 0          # lambda_e = 0


@torch.no_grad()
def test_the_context_loss_counts_only_rows_that_have_the_context():
    model = ContextNet(LABEL_TASK, backbone="tiny", context=["text"], context_dims=[4]).eval()
    batch = visual_batch()
    weights = LossWeights(classification=0.0, embedding=1.0)
    before = float(model.loss(model(batch), batch, weights, torch.tensor(LABEL_TASK)))
    changed = dict(batch, text=batch["text"].clone())
    changed["text"][~batch["text_mask"]] += 100.0  # rows without the context: ignored
    assert float(model.loss(model(changed), changed, weights, torch.tensor(LABEL_TASK))) == before
    changed["text"][batch["text_mask"]] += 1.0      # rows with it: counted
    assert float(model.loss(model(changed), changed, weights, torch.tensor(LABEL_TASK))) != before


def test_contextnet_predicts_from_the_image_alone():
    model = ContextNet(LABEL_TASK, backbone="tiny", context=["text"], context_dims=[4]).eval()
    batch = visual_batch()
    assert model.inputs == ["image"]
    assert torch.equal(model({"image": batch["image"]}).logits, model(batch).logits)


def test_heads_are_one_per_task_xavier_initialised_in_label_order():
    model = ContextNet([1, 0, 1], backbone="tiny")
    assert [head.out_features for head in model.heads.heads] == [1, 2]  # task 0: label 1; task 1: labels 0, 2
    for head in model.heads.heads:
        bound = (6 / (head.in_features + head.out_features)) ** 0.5
        assert head.weight.abs().max() <= bound and torch.all(head.bias == 0)
    embedding = torch.randn(3, model.trunk.out_dim)
    logits = model.heads(embedding)
    assert torch.allclose(logits[:, 1], model.heads.heads[0](embedding)[:, 0])
    assert torch.allclose(logits[:, [0, 2]], model.heads.heads[1](embedding))


def test_the_resnet50_trunk_runs_forward_and_backward_on_224_pixel_images():
    model = build_model("contextnet", {"label_task": LABEL_TASK, "backbone": "resnet50", "weights": "none",
                                       "context": ["text"], "context_dims": [4]})
    batch = {"image": torch.randn(2, 3, 224, 224), "targets": torch.tensor([[1.0, 0, 1], [0, 1, 0]]),
             "text": torch.randn(2, 4), "text_mask": torch.tensor([True, True])}
    output = model(batch)
    assert output.logits.shape == (2, 3) and output.projection.shape == (2, 4)
    model.loss(output, batch, LossWeights(), torch.tensor(LABEL_TASK)).backward()
    assert model.trunk.body.conv1.weight.grad.abs().sum() > 0  # the whole network learns


# --- fusion: masks and modality dropout


def fusion_batch(rows: int = 400) -> dict[str, torch.Tensor]:
    return {"text": torch.randn(rows, 5), "text_mask": torch.rand(rows) < 0.7,
            "kg": torch.randn(rows, 3), "kg_mask": torch.rand(rows) < 0.5,
            "artist": torch.randint(0, 4, (rows,)), "targets": torch.zeros(rows, 3)}


def test_a_missing_input_does_not_reach_the_prediction():
    model = FusionNet(LABEL_TASK, {"text": 5, "kg": 3, "artist": 0}, artists=3, hidden=8).eval()
    batch = fusion_batch()
    before = model(batch).logits
    noisy = dict(batch, kg=batch["kg"].clone())
    noisy["kg"][~batch["kg_mask"]] = 1e3  # whatever sits in a masked slot is never read
    assert torch.equal(model(noisy).logits, before)
    noisy["kg"][batch["kg_mask"]] += 1.0
    assert not torch.equal(model(noisy).logits[batch["kg_mask"]], before[batch["kg_mask"]])
    # An artwork with no input at all is still classified (from the biases).
    nothing = {"text": torch.zeros(1, 5), "text_mask": torch.tensor([False]), "kg": torch.zeros(1, 3),
               "kg_mask": torch.tensor([False]), "artist": torch.tensor([0])}
    assert torch.isfinite(model(nothing).logits).all()


def test_modality_dropout_hides_present_inputs_at_its_rate_in_training_only():
    model = FusionNet(LABEL_TASK, {"text": 5, "kg": 3, "artist": 0}, artists=3, modality_dropout=0.3)
    batch = fusion_batch(4000)
    present = torch.stack([batch["text_mask"], batch["kg_mask"], batch["artist"] > 0], dim=1)
    kept = model.train().input_mask(batch)
    assert not (kept & ~present).any()                             # never invents an input
    assert kept.any(dim=1)[present.any(dim=1)].all()               # never leaves a row with nothing
    single = present.sum(dim=1) == 1                                # rows with one input keep it
    assert torch.equal(kept[single], present[single])
    several = present.sum(dim=1) >= 2
    dropped = (present & ~kept)[several].sum() / present[several].sum()
    assert 0.2 < float(dropped) < 0.3                               # about 0.3, less the rescued rows
    assert torch.equal(model.eval().input_mask(batch), present)     # no dropout at prediction


@pytest.mark.parametrize("identity, size", [("artist", "artists"), ("group", "groups"), ("period", "periods")])
def test_the_unknown_identity_slot_is_the_absent_identity(identity, size):
    model = FusionNet(LABEL_TASK, {identity: 0}, hidden=8, wide=True, **{size: 3}).eval()
    batch = {identity: torch.tensor([0, 2, 3]), "targets": torch.zeros(3, 3)}
    assert model.input_mask(batch).tolist() == [[False], [True], [True]]
    assert getattr(model, f"{identity}_embedding").num_embeddings == 4 == model.wide[identity].num_embeddings
    logits = model(batch).logits
    assert not torch.allclose(logits[1], logits[2])  # each known value is its own identity


def test_identities_sit_between_the_vectors_and_the_words_in_the_input_order():
    model = FusionNet(LABEL_TASK, {"words": 0, "period": 0, "text": 4, "artist": 0, "group": 0},
                      artists=2, groups=2, periods=2, words=2, hidden=8)
    assert model.inputs == ["text", "artist", "group", "period", "words"]


def test_title_words_are_a_bag_whose_padding_is_never_read():
    model = FusionNet(LABEL_TASK, {"words": 0}, words=6, hidden=8).eval()
    batch = {"words": torch.tensor([[3, 1, 0, 0], [0, 0, 0, 0], [1, 3, 0, 0]]), "targets": torch.zeros(3, 3)}
    assert model.input_mask(batch)[:, 0].tolist() == [True, False, True]   # no known word: no words input
    logits = model(batch).logits
    assert torch.allclose(logits[0], logits[2])                            # a bag: order does not matter
    longer = dict(batch, words=torch.tensor([[3, 1, 0, 0, 0, 0], [0] * 6, [1, 3, 0, 0, 0, 0]]))
    assert torch.allclose(model(longer).logits, logits)                     # padding adds nothing
    other = dict(batch, words=torch.tensor([[3, 2, 0, 0], [0, 0, 0, 0], [1, 3, 0, 0]]))
    assert not torch.allclose(model(other).logits[0], logits[0])           # the words are read


def test_the_wide_path_adds_per_label_weights_of_present_sparse_inputs_only():
    dims = {"text": 5, "medium": 2, "artist": 0, "words": 0}
    deep = FusionNet(LABEL_TASK, dims, artists=3, words=6, hidden=8).eval()
    wide = FusionNet(LABEL_TASK, dims, artists=3, words=6, hidden=8, wide=True).eval()
    wide.load_state_dict(deep.state_dict(), strict=False)
    batch = {"text": torch.randn(3, 5), "text_mask": torch.tensor([True, True, True]),
             "medium": torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), "medium_mask": torch.tensor([True, True, False]),
             "artist": torch.tensor([1, 0, 2]), "words": torch.tensor([[2, 0], [0, 0], [2, 5]]),
             "targets": torch.zeros(3, 3)}
    assert torch.equal(wide(batch).logits, deep(batch).logits)     # zero-initialised: the deep path alone
    with torch.no_grad():
        wide.wide["words"].weight[2] = torch.tensor([1.0, 0.0, 0.0])
        wide.wide["artist"].weight[0] = 5.0                          # the unknown artist: absent, never added
        wide.wide["medium"].weight[:, 1] = torch.tensor([0.0, 2.0, 0.0])
    added = wide(batch).logits - deep(batch).logits
    assert torch.allclose(added, torch.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [1.0, 0.0, 0.0]]))


# --- the taxonomy


SPACE = LabelSpace(labels=("red", "blue", "hue", "bar"), label_names=("red", "blue", "hue", "bar"),
                   tasks=("colour", "form"), task_names=("colour", "form"), label_task=(0, 0, 0, 1),
                   parent=(2, 2, -1, -1), dataset="synthetic")


def test_predictions_respect_skos_broader():
    rng = np.random.default_rng(0)
    probabilities = rng.random((500, 4)).astype(np.float32)
    labels, tasks = consistent_probabilities(probabilities, SPACE)
    assert np.all(labels[:, 2] >= np.maximum(labels[:, 0], labels[:, 1]))  # hue >= red, blue
    assert np.all(tasks[:, 0] >= labels[:, :3].max(axis=1)) and np.all(tasks[:, 1] >= labels[:, 3])

    thresholds = rng.uniform(0.2, 0.9, 4).astype(np.float32)
    said, task_said = consistent_decisions(probabilities, thresholds, SPACE)
    assert np.all(said[:, 2] >= said[:, 0]) and np.all(said[:, 2] >= said[:, 1])  # red or blue => hue
    assert np.array_equal(task_said, task_matrix(said, SPACE))
    assert np.all(task_said[:, 0] >= said[:, :3].max(axis=1)) and np.all(task_said[:, 1] >= said[:, 3])
    # A narrow label said yes pulls its broader label up even when that one alone is below its cut.
    one = np.array([[0.9, 0.1, 0.05, 0.0]], dtype=np.float32)
    assert consistent_decisions(one, np.full(4, 0.5), SPACE)[0].tolist() == [[1, 0, 1, 0]]


def test_tuned_thresholds_beat_half_where_the_scores_are_low():
    rng = np.random.default_rng(1)
    truth = (rng.random((400, 2)) < 0.2).astype(np.int8)
    # Label 0's scores rank well but sit below 0.5 (as a model collapsing to the majority does);
    # label 1 has no positive row to tune on.
    scores = np.stack([0.1 + 0.3 * truth[:, 0] + 0.05 * rng.random(400), rng.random(400) * 0.4], axis=1)
    truth[:, 1] = 0
    thresholds = tune_thresholds(scores, truth)
    assert binary_scores(truth[:, 0], scores[:, 0] >= 0.5).f1 == 0.0
    assert binary_scores(truth[:, 0], scores[:, 0] >= thresholds[0]).f1 == 1.0
    assert thresholds[1] == 0.5


# --- the metrics


def test_task_metrics_count_a_task_positive_when_any_of_its_labels_is():
    truth = np.array([[1, 0, 1, 0], [0, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]])
    said = np.array([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [1, 0, 1, 1]])
    metrics = evaluate(truth, said, SPACE)
    colour = metrics.tasks["colour"]
    # colour truth: 1,1,0,0; said: 1,0,0,1 -> tp 1, fp 1, fn 1
    assert (colour.precision, colour.recall, colour.f1, colour.accuracy) == (0.5, 0.5, 0.5, 0.5)
    red = metrics.labels["red"]  # truth 1,0,0,0; said 0,0,0,1
    assert (red.precision, red.recall, red.f1, red.accuracy) == (0.0, 0.0, 0.0, 0.5)
    # micro: tp = hue 1 + bar 1 = 2 (blue, red none); 6 true + 6 said cells -> 4 / 12
    assert metrics.micro_f1 == pytest.approx(4 / 12)
    assert metrics.macro_f1 == pytest.approx(np.mean([0.0, 0.0, 2 * 1 / (2 + 2), 2 * 1 / (2 + 2)]))
    assert metrics.mean_task_f1 == pytest.approx((0.5 + metrics.tasks["form"].f1) / 2)

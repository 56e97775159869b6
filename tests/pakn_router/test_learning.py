"""Learning from operators: the field model, its artefact, corrections and a retrain."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from pakn.auth.users import Role
from pakn.store import Store
from pakn.territory import load
from pakn_router.classify import Classifier
from pakn_router.commands import OPERATOR_PROJECTION, retrain
from pakn_router.learning import (
    MODEL_FILE,
    Example,
    FieldModel,
    ModelFile,
    corpus_examples,
    corrections_by_field,
    operator_examples,
    train,
)
from tests.corpus import CORPUS_PATH, load_corpus, split
from tests.pakn_router.conftest import RouterClient, make_submission, wait_for_case
from tests.pakn_router.test_monitor_api import (
    BUILDING,
    Publish,
    get_json,
    post_json,
    sign_in,
    vague_text,
)

KHANH_HOA = Path(__file__).parents[2] / "deploy" / "config" / "khanh-hoa"


def _operator_case(field: str, proposed: str | None, text: str = "Cống bị nghẹt") -> Any:
    candidates = [{"field": proposed, "score": 3.0}] if proposed else []
    return {
        "content": text,
        "field": field,
        "routing": {"method": "operator", "candidates": candidates},
    }


def test_the_committed_model_is_what_a_retrain_of_the_corpus_gives() -> None:
    with CORPUS_PATH.open(encoding="utf-8") as stream:
        corpus = corpus_examples(yaml.safe_load(stream))
    rebuilt = train(load(KHANH_HOA).categories, corpus)
    assert (KHANH_HOA / MODEL_FILE).read_text(encoding="utf-8") == rebuilt.dumps()


def test_the_model_never_sees_the_holdout() -> None:
    with CORPUS_PATH.open(encoding="utf-8") as stream:
        corpus = corpus_examples(yaml.safe_load(stream))
    tune, holdout = split(load_corpus())
    assert len(corpus) == len(tune)
    assert {e.text for e in corpus}.isdisjoint({i.text for i in holdout})


def test_the_model_explains_itself_and_round_trips() -> None:
    model = FieldModel.train(
        [
            Example("đèn đường không sáng", "chieu-sang"),
            Example("bóng đèn đường hư", "chieu-sang"),
            Example("rác thải bốc mùi", "moi-truong"),
            Example("rác chất đống bốc mùi", "moi-truong"),
        ],
        alpha=0.1,
    )
    best = model.predict("đèn đường ở hẻm hư rồi")[0]
    assert best.field == "chieu-sang" and best.probability > 0.5
    assert "den duong" in model.evidence("đèn đường ở hẻm hư rồi", "chieu-sang")
    again = FieldModel.loads(model.dumps())
    assert again.predict("rác bốc mùi")[0] == model.predict("rác bốc mùi")[0]


def test_operator_decisions_become_examples_and_corrections() -> None:
    cases = [
        _operator_case("cap-thoat-nuoc", "moi-truong"),
        _operator_case("moi-truong", "moi-truong"),
        _operator_case("giao-thong", None),
        {"content": "x", "field": "dien", "routing": {"method": "rule", "candidates": []}},
    ]
    examples = operator_examples(cases)
    assert [e.field for e in examples] == ["cap-thoat-nuoc", "moi-truong", "giao-thong"]
    assert all(e.weight > 1 for e in examples)
    rows = {r.field: (r.decided, r.corrected) for r in corrections_by_field(cases)}
    assert rows == {"moi-truong": (2, 1), "none": (1, 1)}


def test_a_changed_model_file_is_reloaded_and_a_broken_one_kept_out(tmp_path: Path) -> None:
    path = tmp_path / MODEL_FILE
    first = FieldModel.train([Example("đèn đường hư", "chieu-sang")], alpha=0.1)
    path.write_text(first.dumps(), encoding="utf-8")
    ref = ModelFile(path, interval=0.0)
    assert ref.model is not None and ref.model.fields == ["chieu-sang"]
    second = FieldModel.train(
        [Example("đèn đường hư", "chieu-sang"), Example("rác", "moi-truong")], alpha=0.1
    )
    path.write_text(second.dumps(), encoding="utf-8")
    assert (reloaded := ref.refresh()) is not None and len(reloaded.fields) == 2
    path.write_text("{not json", encoding="utf-8")
    assert ref.refresh() is reloaded and ref.error is not None


def test_a_text_no_phrase_explains_gets_the_models_suggestions() -> None:
    result = Classifier.from_config_dir(KHANH_HOA).classify(
        "Nhà tôi có chuyện cần giúp đỡ gấp mong được quan tâm"
    )
    assert result.decision == "triage"
    assert result.candidates and all(c.agency is None for c in result.candidates)
    assert any("mô hình" in note for note in result.notes)


async def test_an_operators_correction_is_counted_and_retrains_the_model(
    router: RouterClient, publisher: Publish, store: Store, tmp_path: Path
) -> None:
    operator = await sign_in(router, store, "hoc.may", Role.OPERATOR)
    submission = make_submission(vague_text(router))
    await publisher(submission)
    await wait_for_case(store, {"submission_id": submission.submission_id, "status": "triage"})
    queue = (await get_json(router, "/api/v1/triage", operator))["items"]
    waiting = next(i for i in queue if i["tracking_code"] == submission.tracking_code)
    proposed = waiting["candidates"][0]["field"]
    chosen = "xay-dung" if proposed != "xay-dung" else "giao-thong"
    await post_json(
        router,
        f"/api/v1/cases/{submission.tracking_code}/assign",
        operator,
        {"field": chosen, "lead_agency": BUILDING, "co_agencies": []},
    )

    corrections = await get_json(router, "/api/v1/corrections", operator)
    assert corrections["corrected"] >= 1
    row = next(r for r in corrections["fields"] if r["field"] == proposed)
    assert row["corrected"] >= 1 and row["field_name"]

    folder = tmp_path / "khanh-hoa"
    shutil.copytree(KHANH_HOA, folder)
    classifier = Classifier.from_config_dir(folder)
    assert classifier.model is not None and classifier.model.model is not None
    assert classifier.model.model.sources["operators"] == 0
    cases = [
        doc async for doc in store.cases.find({"routing.method": "operator"}, OPERATOR_PROJECTION)
    ]
    summary = retrain(folder, CORPUS_PATH, cases)
    assert summary["sources"]["operators"] >= 1
    # The running classifier takes the new model without a restart.
    reloaded = classifier.model.refresh(force=True)
    assert reloaded is not None and reloaded.sources["operators"] >= 1

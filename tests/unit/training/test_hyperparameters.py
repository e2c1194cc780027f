"""Hyperparameters: strings parsed once, ranges, aliases, dependencies, unknown names."""

from __future__ import annotations

import logging

import pytest

from boostbox.errors import HyperparameterError
from boostbox.training.hyperparameters import Hyperparameters, parse
from boostbox.training.hyperparameters.table import TABLE as SPECS
from tests.unit.training.builders import SEED_HPS


def hp(**values: str) -> Hyperparameters:
    return parse({"num_round": "3", **values})


def test_seed_call_parses_from_strings(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        parsed = parse(SEED_HPS, num_cpus=4)
    assert parsed.num_round == 200
    assert parsed.early_stopping_rounds == 10
    assert parsed.objective == "reg:squarederror"
    assert "reg:linear" in caplog.text
    params = parsed.xgb_params()
    assert params["max_depth"] == 5 and isinstance(params["max_depth"], int)
    assert params["eta"] == 0.2 and params["gamma"] == 4.0 and params["subsample"] == 0.8
    assert params["tree_method"] == "hist"
    assert params["nthread"] == 4
    assert "num_round" not in params and "early_stopping_rounds" not in params


@pytest.mark.parametrize(
    ("name", "raw", "value"),
    [
        ("max_depth", "7", 7),
        ("max_depth", "7.0", 7),
        ("eta", "0.05", 0.05),
        ("csv_weights", "1", True),
        ("refresh_leaf", "0", 0),
        ("booster", "dart", "gbtree"),  # XGBoost 3.4: dart is gbtree + dropout params
        ("verbosity", "0", 0),
        ("seed", "-5", -5),
        ("scale_pos_weight", "2.5", 2.5),
        ("updater", "grow_quantile_histmaker, prune", "grow_quantile_histmaker,prune"),
        ("num_parallel_tree", "2", 2),
        ("max_bin", "64", 64),
    ],
)
def test_types_are_converted(name: str, raw: str, value: object) -> None:
    parsed = hp(**{name: raw})
    got = {
        **parsed.xgb_params(),
        "csv_weights": parsed.csv_weights,
    }[name]
    assert got == value


def test_structured_values() -> None:
    parsed = hp(
        interaction_constraints="[[0, 1], [2]]",
        monotone_constraints="(1,0,-1)",
        eval_metric="rmse, mae",
    )
    assert parsed.interaction_constraints == ((0, 1), (2,))
    assert parsed.monotone_constraints == (1, 0, -1)
    assert parsed.eval_metric == ("rmse", "mae")
    params = parsed.xgb_params()
    assert params["monotone_constraints"] == "(1,0,-1)"
    assert params["interaction_constraints"] == "[[0, 1], [2]]"
    assert params["eval_metric"] == ["rmse", "mae"]


@pytest.mark.parametrize(
    ("alias", "name"),
    [("learning_rate", "eta"), ("reg_alpha", "alpha"), ("reg_lambda", "lambda")]
    + [("min_split_loss", "gamma")],
)
def test_aliases(alias: str, name: str) -> None:
    assert hp(**{alias: "0.5"}).xgb_params()[name] == 0.5
    with pytest.raises(HyperparameterError, match="are the same hyperparameter"):
        hp(**{alias: "0.5", name: "0.1"})


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("eta", "abc", "expected a number in [0, 1]"),
        ("eta", "1.5", "expected a number in [0, 1]"),
        ("eta", "nan", "expected a number in [0, 1]"),
        ("num_round", "0", "expected an integer >= 1"),
        ("max_depth", "2.5", "expected an integer >= 0"),
        ("subsample", "0", "expected a number in (0, 1]"),
        ("colsample_bytree", "1.01", "expected a number in (0, 1]"),
        ("tweedie_variance_power", "2", "expected a number in (1, 2)"),
        ("seed", "2147483647", "expected an integer in (-2147483648, 2147483647)"),
        ("scale_pos_weight", "0", "expected a number > 0"),
        ("booster", "gbm", "expected one of gbtree, gblinear, dart"),
        ("csv_weights", "2", "expected 0 or 1"),
        ("save_model_on_termination", "maybe", "expected true or false"),
        ("eval_metric", "rmse,bogus", "metric names"),
        ("interaction_constraints", "[[0, x]]", "list of lists"),
        ("monotone_constraints", "(2,0)", "tuple of -1/0/1"),
        ("verbosity", "4", "expected an integer in [0, 3]"),
        ("objective", "reg:nonsense", "expected one of binary:logistic"),
    ],
)
def test_out_of_range_values_name_key_and_value(name: str, raw: str, expected: str) -> None:
    with pytest.raises(HyperparameterError) as info:
        hp(**{name: raw})
    message = str(info.value)
    assert message.startswith(f"Hyperparameter '{name}' has value '{raw}': ")
    assert expected in message
    assert "\n" not in message


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(
        HyperparameterError, match=r"'max_dpeth' is not known\. Did you mean 'max_depth'"
    ):
        hp(max_dpeth="3")
    with pytest.raises(HyperparameterError, match="'zzz' is not known.$"):
        hp(zzz="1")


def test_num_round_is_required() -> None:
    with pytest.raises(HyperparameterError, match="'num_round' is required"):
        parse({"eta": "0.1"})


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"objective": "multi:softprob"}, "'num_class' is required with objective"),
        ({"num_class": "3"}, "only valid with objective multi:softmax"),
        ({"eval_metric": "auc"}, "auc/aucpr need a binary:"),
        ({"booster": "gblinear", "monotone_constraints": "(1)"}, "needs a tree booster"),
        ({"tree_method": "exact", "updater": "shotgun"}, "'updater' has value 'shotgun'"),
        ({"booster": "gblinear", "updater": "grow_colmaker"}, "exactly one of shotgun"),
        ({"sampling_method": "gradient_based"}, "needs a GPU"),
        ({"_kfold": "5", "objective": "rank:ndcg"}, "would cut the query groups"),
        ({"_num_cv_round": "2"}, "it needs '_kfold'"),
        ({"process_type": "update"}, "'process_type' has value 'update'"),
        ({"eval_metric": "aft-nloglik"}, "'aft-nloglik', which needs objective survival:aft"),
        (
            {"eval_metric": "interval-regression-accuracy", "objective": "binary:logistic"},
            "survival:aft, but 'objective' is 'binary:logistic'",
        ),
        ({"eval_metric": "mlogloss"}, "needs objective multi:softmax or multi:softprob"),
        ({"eval_metric": "rmse", "objective": "multi:softprob", "num_class": "3"}, "num_class"),
        (
            {"eval_metric": "f1_binary", "objective": "multi:softmax", "num_class": "3"},
            "a binary: objective",
        ),
        ({"eval_metric": "accuracy"}, "needs a binary: or multi: objective"),
        ({"_tuning_objective_metric": "validation:shap"}, "_tuning_objective_metric"),
    ],
)
def test_dependencies(values: dict[str, str], expected: str) -> None:
    with pytest.raises(HyperparameterError, match=expected):
        hp(**values)


def test_multi_class_with_num_class() -> None:
    parsed = hp(objective="multi:softmax", num_class="3", eval_metric="mlogloss,auc")
    assert parsed.xgb_params()["num_class"] == 3


def test_feature_count_checks() -> None:
    parsed = hp(interaction_constraints="[[0, 1], [4]]", monotone_constraints="(1,0,0,0)")
    parsed.check_features(5)
    with pytest.raises(HyperparameterError, match="feature index 4 does not exist"):
        parsed.check_features(4)
    with pytest.raises(HyperparameterError, match="4 entries but the data has only 3"):
        hp(monotone_constraints="(1,0,0,0)").check_features(3)


def test_internal_dropped_and_mapped_names_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        parsed = hp(
            sagemaker_program="x",
            _tuning_objective_metric="validation:rmse",
            tree_method="gpu_hist",
            sketch_eps="0.1",
            rate_drop="0.2",
            predictor="cpu_predictor",
        )
    params = parsed.xgb_params()
    assert params["tree_method"] == "hist"
    for gone in ("sagemaker_program", "_tuning_objective_metric", "sketch_eps", "rate_drop"):
        assert gone not in params
        assert gone in caplog.text
    assert "predictor" not in params
    assert "no GPU" in caplog.text


def test_dart_keeps_dart_params() -> None:
    assert hp(booster="dart", rate_drop="0.2").xgb_params()["rate_drop"] == 0.2


def test_gblinear_gets_no_tree_method() -> None:
    assert "tree_method" not in hp(booster="gblinear").xgb_params()


def test_every_documented_name_is_declared() -> None:
    documented = (
        "num_round num_class alpha base_score booster colsample_bylevel colsample_bynode "
        "colsample_bytree csv_weights deterministic_histogram early_stopping_rounds eta "
        "eval_metric gamma grow_policy interaction_constraints lambda lambda_bias max_bin "
        "max_delta_step max_depth max_leaves min_child_weight monotone_constraints "
        "normalize_type nthread objective one_drop process_type rate_drop refresh_leaf "
        "sample_type scale_pos_weight seed sketch_eps skip_drop subsample tree_method "
        "tweedie_variance_power updater verbosity dsplit predictor num_parallel_tree "
        "save_model_on_termination aft_loss_distribution aft_loss_distribution_scale "
        "sampling_method prob_buffer_row use_dask_gpu_training"
    ).split()
    assert set(documented) <= set(SPECS)


def test_hyperparameters_are_frozen() -> None:
    parsed = hp()
    with pytest.raises(AttributeError):
        parsed.num_round = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        parsed.params["eta"] = 1  # type: ignore[index]


def test_official_metrics_and_the_tuning_metric_join_eval_metric() -> None:
    parsed = hp(
        objective="binary:logistic",
        eval_metric="auc,balanced_accuracy,precision",
        _tuning_objective_metric="validation:f1",
    )
    assert parsed.eval_metric == ("auc", "balanced_accuracy", "precision", "f1")
    assert parsed.stopping_metric == "f1"
    assert parsed.custom_metrics == ("balanced_accuracy", "precision", "f1")
    assert parsed.xgb_params()["eval_metric"] == ["auc"]


def test_tuning_metric_already_listed_is_not_repeated() -> None:
    parsed = hp(eval_metric="rmse,mae", _tuning_objective_metric="validation:rmse")
    assert parsed.eval_metric == ("rmse", "mae") and parsed.stopping_metric == "rmse"
    assert hp(eval_metric="rmse,mae").stopping_metric == "mae"
    assert hp().stopping_metric is None


@pytest.mark.parametrize(
    "metric",
    [
        "accuracy",
        "balanced_accuracy",
        "f1",
        "f1_macro",
        "precision_macro",
        "precision_micro",
        "recall_macro",
        "recall_micro",
    ],
)
def test_official_classification_metrics_are_accepted(metric: str) -> None:
    assert hp(objective="multi:softprob", num_class="3", eval_metric=metric).eval_metric == (
        metric,
    )


@pytest.mark.parametrize("metric", ["mse", "r2", "rmse", "mae"])
def test_official_regression_metrics_are_accepted(metric: str) -> None:
    assert hp(eval_metric=metric).eval_metric == (metric,)


def test_kfold_is_read() -> None:
    parsed = hp(_kfold="5", _num_cv_round="2")
    assert (parsed.kfold, parsed.num_cv_round) == (5, 2)

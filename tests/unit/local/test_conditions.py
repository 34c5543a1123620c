"""Template conditions in the local stack (local.template): Fn::Equals/Not/And/Or/Condition, a
resource whose `Condition` is false does not exist, and `!If` picks its branch by the condition."""

from __future__ import annotations

import pytest

from local import config, functions, template


@pytest.mark.parametrize(
    ("parameters", "demo", "provider"),
    [
        ({}, False, False),
        ({"DemoClusterContext": "true"}, True, True),
        ({"ClusterContextFunctionArn": "arn:aws:lambda:eu-west-1:1:function:platform"}, False, True),
    ],
)
def test_conditions_follow_the_parameters(parameters: dict[str, str], demo: bool, provider: bool) -> None:
    stack = template.Stack()
    assert template.condition("UseDemoClusters", stack, parameters) is demo
    assert template.condition("HasClusterProvider", stack, parameters) is provider  # !Or, !Not, !Condition
    assert template.active("DescribeClusterFunction", stack, parameters) is demo
    assert template.active("ReviewTicketFunction", stack, parameters)  # no Condition: always


def test_a_function_whose_condition_is_false_is_not_run_nor_named() -> None:
    stack = template.Stack()
    functions.register_functions(stack, {})
    specs = functions.discover(stack, {})
    assert "DescribeClusterFunction" not in specs and "DescribeClusterFunction" not in stack.arns
    assert specs["ReviewTicketFunction"].environment["CLUSTER_CONTEXT_FUNCTION"] == ""


def test_the_local_stack_runs_the_demo_cluster_provider() -> None:
    stack = template.Stack()
    functions.register_functions(stack, config.PARAMETERS)
    specs = functions.discover(stack, config.PARAMETERS)
    assert "DescribeClusterFunction" in specs
    assert specs["ReviewTicketFunction"].environment["CLUSTER_CONTEXT_FUNCTION"] == specs["DescribeClusterFunction"].arn


def test_an_unknown_condition_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no condition 'Nope'"):
        template.condition("Nope", template.Stack(), {})

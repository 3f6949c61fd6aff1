"""The integration tests of one server, run again on a two-node cluster on Redis behind a
round-robin balancer: each connection (a J-IM socket, a REST call) lands on the next node, so
every conversation, fan-out, event and change crosses nodes.
A few tests look at one node's own state (its metrics, a store method patched on it), which
the balancer may not send their calls to: they are left out here, each with its reason.
"""
from unittest import SkipTest

from tests.integration import (
    test_cross_apps, test_cross_groups, test_cross_relations, test_cross_rooms, test_delivery,
    test_rest_groups, test_rest_live, test_rest_messages, test_rest_relations, test_rest_users,
    test_sdk_groups,
)


#: test -> why it checks one node's own state
NODE_LOCAL = {
    "test_a_store_failure_is_a_cmd_12_refusal_not_a_server_error": "patches one node's store",
    "test_an_unexpected_failure_is_a_500_and_jim_keeps_serving": "patches one node's store",
    "test_every_send_refusal_is_a_cmd_12_reply": "counts in one node's metrics",
    "test_metrics_count_a_call_under_the_status_it_was_answered_with":
        "counts in one node's metrics",
}


def _skipped(reason):
    def test(self):
        raise SkipTest(f"one node's own state: {reason}")
    return test


def on_cluster(module):
    """Every TestCase class of C{module}, as a subclass that runs on two nodes."""
    made = {}
    for name, value in vars(module).items():
        if (isinstance(value, type) and name.endswith("Tests")
                and value.__module__ == module.__name__):
            attributes = {"nodes": 2}
            attributes.update({test: _skipped(reason) for test, reason in NODE_LOCAL.items()
                               if hasattr(value, test)})
            made[f"Cluster{name}"] = type(f"Cluster{name}", (value,), attributes)
    return made


for _module in (test_rest_live, test_delivery, test_rest_users, test_rest_relations,
                test_rest_groups, test_rest_messages, test_cross_apps, test_cross_relations,
                test_cross_groups, test_cross_rooms, test_sdk_groups):
    globals().update(on_cluster(_module))

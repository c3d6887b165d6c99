"""TF1-style execution: the eager step's own function, built once in a `tf.Graph` and run with
`tf.compat.v1.Session.run`, with the feeds and fetches a TF1 user writes.

No step logic lives here. `build_session_step` builds the eager step of the same spec inside a
fresh graph (model, optimizer and inputs become graph variables and constants), calls its
function once on `tf.compat.v1.placeholder`s, and keeps as fetches

    outputs     what the step returns (the loss of a train step, the logits of an inference)
    train_op    `tf.group` of the new stateful ops nothing consumes: the variable updates a TF1
                user fetches beside the loss (`sess.run([train_op, loss], feed_dict)`). Without
                this fetch nothing trains.

A v1 graph runs stateful ops in no set order, while Keras' optimizers are written for eager and
tf.function order (Keras 2's SGD writes its momentum slot, then reads it back). The step is
therefore built under TensorFlow's automatic control dependencies, the ones tf.function adds:
ops on the same variable run in program order, as the control dependencies inside TF1's own
optimizers ensured. Nothing else changes: no function call op, the outputs do not wait for
the updates.

Each call feeds NumPy batches (`feed_dict`), as TF1 input code without `tf.data` does. A step
with Python control flow on tensors (control_flow) is written by AutoGraph into the
`tf.while_loop`/`tf.cond` a TF1 user writes by hand (`tf.autograph.to_graph`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import tensorflow as tf

# Private, but what tf.function and tf.compat.v1.wrap_function build graphs with since TF 2.0.
from tensorflow.python.framework.auto_control_deps import AutomaticControlDependencies

__all__ = ["SESSION_MODE", "SessionFunction", "build_session_step"]

SESSION_MODE = "session"
# Steps whose Python `if`/`while` on tensors need AutoGraph to become graph control flow.
_PYTHON_CONTROL_FLOW = ("control_flow",)


class SessionFunction:
    """`sess.run(fetches, feed_dict)` behind a call: `fn(*numpy_inputs) -> outputs`."""

    def __init__(self, graph: tf.Graph, placeholders, outputs, train_op) -> None:
        self.graph = graph
        self.placeholders = list(placeholders)
        self.outputs = outputs
        self.train_op = train_op
        self.session = tf.compat.v1.Session(graph=graph)
        with graph.as_default():
            init = tf.compat.v1.global_variables_initializer()
        self.session.run(init)

    def constant_values(self, tensors) -> list[np.ndarray]:
        """The values of graph constants (the step's inputs), for feeding them back."""
        return list(self.session.run(list(tensors)))

    def __call__(self, *inputs: Any) -> Any:
        feed = dict(zip(self.placeholders, inputs, strict=True))
        if self.train_op is None:
            return self.session.run(self.outputs, feed_dict=feed)
        outputs, _ = self.session.run([self.outputs, self.train_op], feed_dict=feed)
        return outputs

    def close(self) -> None:
        self.session.close()


def _updates(graph: tf.Graph, before: set) -> tf.Operation | None:
    new = [op for op in graph.get_operations() if op not in before]
    sinks = [
        op
        for op in new
        if op.op_def.is_stateful and not any(output.consumers() for output in op.outputs)
    ]
    return tf.group(*sinks, name="train_op") if sinks else None


def build_session_step(spec):
    """The step of `spec` (mode "session") as a TF1 graph run by a Session; see the module doc.

    Returns:
        A steps.Step whose `fn` is a SessionFunction and whose `args` are NumPy arrays.
    """
    from tf2bench.workloads.steps import Step, build_step

    eager_spec = dataclasses.replace(spec, mode="eager")
    graph = tf.Graph()
    with graph.as_default():
        # The same builder as eager: identical seeded weights and inputs, now graph objects.
        step = build_step(eager_spec)
        fn = step.fn
        if spec.workload in _PYTHON_CONTROL_FLOW:
            fn = tf.autograph.to_graph(fn)
        placeholders = [
            tf.compat.v1.placeholder(arg.dtype, arg.shape, name=f"input_{index}")
            for index, arg in enumerate(step.args)
        ]
        before = set(graph.get_operations())
        with AutomaticControlDependencies():
            outputs = fn(*placeholders)
        train_op = _updates(graph, before)
    runner = SessionFunction(graph, placeholders, outputs, train_op)
    inputs = tuple(runner.constant_values(step.args))
    graph.finalize()  # built once: a run that added ops would fail instead of growing the graph
    return Step(spec, runner, inputs, step.items_per_round, step.item_unit, {"graph": graph})

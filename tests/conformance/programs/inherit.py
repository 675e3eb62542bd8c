# What runs inherit from the runs they nest under (twin of inherit.ts): tags and metadata,
# each tag once down a recursion, what is added while a run runs reaching the children
# started after, the root's project, and reference_example_id and usage_metadata kept
# by their own run.
from jsontrace import get_current_run, traceable


@traceable(name="leaf")
def leaf():
    return "leaf"


@traceable(name="rec", tags=["rec"])
def rec(n):
    return rec(n - 1) if n else leaf()


@traceable(name="child", project_name="child-project", tags=["c"], metadata={"k": "child"})
def child():
    return leaf()


@traceable(
    name="root",
    project_name="root-project",
    tags=["r"],
    metadata={"k": "root", "tenant": "acme", "reference_example_id": "ex-1"},
)
def root():
    child()
    run = get_current_run()
    run.add_tags("late")
    run.add_metadata({"usage_metadata": {"input_tokens": 1, "output_tokens": 1}, "step": 2})
    return rec(2)


print(root())

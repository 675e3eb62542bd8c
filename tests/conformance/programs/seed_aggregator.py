# The Python twin of the second TypeScript example (LangSmith's docs, Python tab).
from jsontrace import traceable


def concatenate_strings(outputs: list):
    return "".join(outputs)


@traceable(reduce_fn=concatenate_strings)
def my_generator():
    for chunk in ["Hello", "World", "!"]:  # noqa: UP028 - as LangSmith's docs write it
        yield chunk


for output in my_generator():
    print(output)

# The Python twin of the first TypeScript example (LangSmith's docs, Python tab).
from jsontrace import traceable


@traceable
def my_generator():
    for chunk in ["Hello", "World", "!"]:  # noqa: UP028 - as LangSmith's docs write it
        yield chunk


for output in my_generator():
    print(output)

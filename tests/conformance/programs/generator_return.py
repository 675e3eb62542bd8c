# A generator's return value, recorded after its chunks and seen by reduce_fn; None is not
# recorded (twin of generator_return.ts).
from jsontrace import traceable


@traceable(name="count")
def count(n):
    yield from range(n)
    return "done"


@traceable(name="words", reduce_fn=lambda values: "+".join(values))
def words():
    yield "a"
    yield "b"
    return "c"


@traceable(name="no_return")
def no_return():
    yield 1
    return None


@traceable(name="main")
def main():
    return [*count(2), *words(), *no_return()]


print(" ".join(str(value) for value in main()))

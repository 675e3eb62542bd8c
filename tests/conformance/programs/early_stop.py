# A consumer that stops early: the generator's run is cancelled with the partial output
# (twin of early_stop.ts).
import asyncio

from jsontrace import traceable


@traceable(name="letters", reduce_fn="".join)
def letters():
    yield "a"
    yield "b"
    yield "c"


@traceable(name="numbers")
async def numbers():
    for n in [1, 2, 3]:
        yield n


@traceable(name="main")
def main():
    seen = []
    for letter in letters():
        seen.append(letter)
        if letter == "b":
            break
    return seen


async def amain():
    async for n in numbers():
        if n == 2:
            break


print(",".join(main()))
asyncio.run(amain())

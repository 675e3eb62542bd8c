# Errors: a failing call, a stream that fails midway, a failing reduce_fn (twin of errors.ts).
import json

from jsontrace import traceable


@traceable(name="parse")
def parse(text):
    if not text:
        raise ValueError("empty input")
    return len(text)


@traceable(name="tokens")
def tokens(n):
    for i in range(n):
        if i == 2:
            raise RuntimeError("stream broke")
        yield i


def broken_reduce(chunks):
    raise ValueError("nope")


@traceable(name="words", reduce_fn=broken_reduce)
def words():
    yield "x"
    yield "y"


@traceable(name="main")
def main():
    out = [parse("hello")]
    try:
        parse("")
    except ValueError as error:
        out.append(str(error))
    try:
        for token in tokens(5):
            out.append(token)
    except RuntimeError as error:
        out.append(str(error))
    out.extend(words())
    return out


print(json.dumps(main(), separators=(",", ":")))

# A traced pipeline: two retrievals in parallel, then a streamed answer (twin of nested_async.ts).
import asyncio

from jsontrace import traceable


@traceable(name="retrieve", run_type="retriever")
async def retrieve(query):
    await asyncio.sleep(0.001)
    return [f"doc about {query}"]


@traceable(name="stream_answer", run_type="llm", reduce_fn="".join)
async def stream_answer(docs):
    for word in ["Based", " on", " the", " docs"]:
        await asyncio.sleep(0)
        yield word


@traceable(name="pipeline", metadata={"app": "conformance"})
async def pipeline(question):
    docs = await asyncio.gather(*(retrieve(query) for query in ["a", "b"]))
    answer = ""
    async for token in stream_answer(list(docs)):
        answer += token
    return {"answer": answer}


print(asyncio.run(pipeline("why?"))["answer"])

# Secrets redacted in a program's events; tags and metadata added while a run runs
# (twin of run_context.ts).
from jsontrace import get_current_run, traceable


@traceable(name="call_model", run_type="llm")
def call_model(prompt, api_key):
    return f"echo {prompt}"


@traceable(name="main", tags=["t1"], metadata={"m": 1})
def main():
    run = get_current_run()
    run.add_metadata({"step": 2})
    run.add_tags("late")
    return call_model("hi", "sk-live-0123456789abcdefghijklmnop")


print(main())

"""How every exercise check answers: one printed line, a tick or a cross, and True or False."""

PASSED, FAILED = "\u2714", "\u2718"  # check mark, cross


class Mistake(Exception):
    """What is wrong with the checked work, in words for the student."""


def report(name, run, verdict="is correct"):
    """Print ``✔ name verdict: praise`` or ``✘ name: mistake`` for ``run()``; return True or False."""
    try:
        praise = run()
    except Mistake as mistake:
        print(f"{FAILED} {name}: {mistake}")
        return False
    print(f"{PASSED} {name} {verdict}: {praise}")
    return True

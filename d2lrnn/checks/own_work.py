"""Refuse the package's own solution handed in as a student's function: the function itself, or a pasted copy.

The reference cells and stacking loop live in ``d2lrnn.scratch`` and the worked solution
notebook shows them; a check that compares a function with the reference proves nothing
when it is handed the reference. A copy is recognised by the same syntax tree together
with every comment of the reference (which someone writing the code from the equations
does not reproduce); a reference with fewer than two comments, such as the one-line
``rnn_cell``, cannot be told from independent work and is only refused as itself.
"""
import ast
import functools
import inspect
import io
import textwrap
import tokenize
from pathlib import Path

from .feedback import Mistake

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # d2lrnn/


def refuse_reference(fn, name, reference, copies=True):
    """Raise a ``Mistake`` when ``fn`` is ``reference`` (or any function of the package), or with ``copies`` a copy of it."""
    target = fn
    while isinstance(target, functools.partial):
        target = target.func
    code = getattr(target, "__code__", None)
    if target is reference or code is reference.__code__ or (
            code is not None and Path(code.co_filename).resolve().is_relative_to(PACKAGE_DIR)):
        raise Mistake(f"this {name} is the package's own function ({getattr(target, '__module__', 'd2lrnn')}."
                      f"{getattr(target, '__name__', name)}), not yours; the check compares your code with it, "
                      f"so handing it in proves nothing. Write {name} in its cell")
    if copies and _is_copy(target, reference):
        raise Mistake(f"this {name} is a copy of the package's own d2lrnn.scratch.{reference.__name__}, comments "
                      f"and all. Write {name} yourself from the equations above")


def _source(fn):
    """The dedented source of ``fn``, or None where Python cannot find it (a built-in, code made by exec)."""
    try:
        return textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return None


def _comments(source):
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {t.string.strip() for t in tokens if t.type == tokenize.COMMENT}


def _body(source):
    """``ast.dump`` of the first function's arguments and body, without its docstring."""
    function = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, (ast.FunctionDef, ast.Lambda)))
    body = function.body if isinstance(function.body, list) else [function.body]
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return ast.dump(function.args) + "".join(ast.dump(statement) for statement in body)


def _is_copy(fn, reference):
    source, reference_source = _source(fn), _source(reference)
    if source is None or reference_source is None:
        return False
    wanted = _comments(reference_source) - {"### BEGIN SOLUTION", "### END SOLUTION"}
    try:
        return len(wanted) >= 2 and wanted <= _comments(source) and _body(source) == _body(reference_source)
    except (SyntaxError, tokenize.TokenError, StopIteration):  # source Python cannot parse alone: not a copy
        return False

"""Project Gutenberg books: header/footer stripping, BOM and CRLF, the loader, one shared vocabulary, download."""
import pytest

import d2lrnn
from d2lrnn import gutenberg_resource, load_data_books, read_gutenberg, strip_gutenberg
from d2lrnn.download import fetch

HEADER = ("The Project Gutenberg eBook of A Tiny Book\n\nThis eBook is for the use of anyone.\n\n"
          "*** START OF THE PROJECT GUTENBERG EBOOK A TINY BOOK ***\n")
FOOTER = ("\n*** END OF THE PROJECT GUTENBERG EBOOK A TINY BOOK ***\n\n"
          "Updated editions will replace the previous one.\n")
BODY = "A Tiny Book\n\nIt was a Dark night.\nThe END of it.\n"


def write_book(folder, ebook, text, encoding="utf-8"):
    """Put a synthetic ebook where the loader caches ``ebook``; returns its path."""
    path = folder / "gutenberg" / f"pg{ebook}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("raw", [
    HEADER + BODY + FOOTER,                                      # LF, markers
    "\ufeff" + HEADER + BODY + FOOTER,                           # BOM
    ("\ufeff" + HEADER + BODY + FOOTER).replace("\n", "\r\n"),   # BOM and CRLF (like pg36)
    (HEADER + BODY + FOOTER).replace("\n", "\r"),                # old Mac line ends
    (HEADER + BODY + FOOTER).replace("OF THE PROJECT", "OF THIS PROJECT"),  # older marker wording
    BODY,                                                        # no markers (like pg1342)
    HEADER + "\ncover \n\n\n" + BODY + FOOTER,                  # cover image's alt text (like pg36)
    ("\ufeff" + HEADER + "\ncover \n\n" + BODY + FOOTER).replace("\n", "\r\n"),
    "\ufeff" + BODY.replace("\n", "\r\n"),
])
def test_strip_gutenberg_keeps_exactly_the_book(raw):
    assert strip_gutenberg(raw) == BODY.strip()


def test_strip_gutenberg_with_one_marker_only():
    assert strip_gutenberg(HEADER + BODY) == BODY.strip()
    assert strip_gutenberg(BODY + FOOTER) == BODY.strip()


def test_only_a_leading_cover_line_is_removed():
    """The word "cover" inside the book, or a line that merely starts with it, stays."""
    assert strip_gutenberg(HEADER + "covered with foam.\ncover\n" + FOOTER) == "covered with foam.\ncover"
    assert strip_gutenberg(HEADER + "Cover Story\n" + FOOTER) == "Cover Story"


def test_markers_must_start_a_line_and_be_gutenberg_markers():
    text = "He wrote: *** START OF THE PROJECT GUTENBERG EBOOK X *** in the margin.\n*** START OF A DREAM ***"
    assert strip_gutenberg(text) == text


def test_strip_gutenberg_errors():
    with pytest.raises(ValueError, match="END marker comes before the START marker"):
        strip_gutenberg(FOOTER + BODY + HEADER)
    with pytest.raises(ValueError, match="no text is left"):
        strip_gutenberg(HEADER + "\r\n  \r\n" + FOOTER)


def test_gutenberg_resource():
    r = gutenberg_resource(35)
    assert r.filename == "gutenberg/pg35.txt"
    assert r.url == "https://www.gutenberg.org/cache/epub/35/pg35.txt"
    assert r.sha1 is None and r.sha256 is None  # Gutenberg revises its files
    for bad in (0, -1, "35", 3.5, True):
        with pytest.raises(ValueError, match="ebook must be a positive integer"):
            gutenberg_resource(bad)


def test_loader_on_synthetic_books_shares_one_vocabulary(tmp_path):
    write_book(tmp_path, 1, "\ufeff" + (HEADER + "Ab  ab\nc" + FOOTER).replace("\n", "\r\n"))
    write_book(tmp_path, 2, "xyZ a")
    (first, second), vocab = load_data_books([1, 2], data_dir=tmp_path)
    # Counts over both books: ' ' 3, a 3, b 2, c, x, y, z 1 -> frequency, ties alphabetical.
    assert vocab.idx_to_token == ["<unk>", " ", "a", "b", "c", "x", "y", "z"]
    assert vocab.to_tokens(first) == list("ab ab c")
    assert vocab.to_tokens(second) == list("xyz a")
    (short,), _ = load_data_books([1], num_examples=4, data_dir=tmp_path)
    assert len(short) == 4


def test_loader_with_a_given_vocabulary_maps_unknown_characters_to_unk(tmp_path):
    write_book(tmp_path, 1, "abc abc")
    write_book(tmp_path, 2, "abé, d'a")
    (known,), vocab = load_data_books([1], data_dir=tmp_path)
    (other,), same = load_data_books([2], data_dir=tmp_path, vocab=vocab)
    assert same is vocab and len(vocab) == 5  # <unk>, ' ', a, b, c
    assert other == [vocab["a"], vocab["b"], 0, 0, vocab[" "], 0, 0, vocab["a"]]
    assert vocab.to_tokens(other) == ["a", "b", "<unk>", "<unk>", " ", "<unk>", "<unk>", "a"]


def test_loader_errors(tmp_path):
    write_book(tmp_path, 1, "abc")
    with pytest.raises(ValueError, match="ebooks must be a non-empty list"):
        load_data_books(35, data_dir=tmp_path)
    with pytest.raises(ValueError, match="ebooks must be a non-empty list"):
        load_data_books([], data_dir=tmp_path)
    with pytest.raises(ValueError, match=r"more than once: \[1, 1\]"):
        load_data_books([1, 1], data_dir=tmp_path)
    with pytest.raises(ValueError, match="num_examples must be a positive"):
        load_data_books([1], num_examples=0, data_dir=tmp_path)
    write_book(tmp_path, 3, "caf\u00e9", encoding="latin-1")
    with pytest.raises(ValueError, match=r"pg3.txt is not UTF-8 text"):
        read_gutenberg(3, data_dir=tmp_path)


def test_offline_copies_through_the_real_loader():
    """The three offline copies differ in format on purpose (BOM + LF, BOM + CRLF, no header)."""
    tm, wotw, pp = (read_gutenberg(n) for n in (35, 36, 1342))
    for text in (tm, wotw, pp):
        assert "\r" not in text and "\ufeff" not in text
        assert "*** START OF" not in text and "*** END OF" not in text
        assert "Project Gutenberg" not in text[:2000] and "Project Gutenberg" not in text[-2000:]
    assert tm.startswith("The Time Machine\n\nAn Invention\n\nby H. G. Wells")
    assert tm.endswith("lived on in the heart of man.")
    assert wotw.startswith("The War of the Worlds\n\nby H. G. Wells")  # no "cover" line
    assert wotw.endswith("among the dead.")
    assert pp.startswith("It is a truth universally acknowledged")
    assert pp.endswith("the means of uniting them.")


def test_offline_books_with_one_vocabulary():
    (tm, wotw, pp), vocab = load_data_books([35, 36, 1342], num_examples=20000)
    assert [len(tm), len(wotw), len(pp)] == [20000, 20000, 20000]
    assert vocab.to_tokens(tm[:16]) == list("the time machine")
    assert 0 not in tm + wotw + pp  # every character is in the shared vocabulary
    # Wells' text uses a curly apostrophe, Austen's the straight one: with a vocabulary
    # built on Wells alone, Austen's apostrophes are unknown.
    (wells,), wells_vocab = load_data_books([35], num_examples=20000)
    (austen,), _ = load_data_books([1342], num_examples=20000, vocab=wells_vocab)
    assert "\u2019" in wells_vocab and "'" not in wells_vocab
    assert austen.count(0) > 0 and 0 not in wells


def test_book_download_against_loopback_server(server, tmp_path):
    raw = ("\ufeff" + HEADER + BODY + FOOTER).replace("\n", "\r\n").encode("utf-8")
    url = server.serve("/cache/epub/7/pg7.txt", raw)
    path = fetch(gutenberg_resource(7), data_dir=tmp_path / "cache", url=url)
    assert path == tmp_path / "cache" / "gutenberg" / "pg7.txt"  # sub-folder created
    assert path.read_bytes() == raw
    assert sorted(p.name for p in path.parent.iterdir()) == ["pg7.txt"]  # no temporary file left
    server.routes.clear()  # from now on only the cache can answer
    assert read_gutenberg(7, data_dir=tmp_path / "cache") == BODY.strip()
    (corpus,), vocab = load_data_books([7], data_dir=tmp_path / "cache")
    assert "".join(vocab.to_tokens(corpus)) == d2lrnn.preprocess(BODY)


def test_book_download_failure_names_the_book(tmp_path, server):
    with pytest.raises(d2lrnn.DownloadError, match=r"HTTP 404.*gutenberg/pg8.txt"):
        fetch(gutenberg_resource(8), data_dir=tmp_path, url=server.url("/missing"))

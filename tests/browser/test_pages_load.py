"""Every page jim serves loads in a real browser without a console error."""
from tests.support.pw import browser, jim, pages  # noqa: F401 (pytest fixtures)


def test_the_chat_page_loads_and_shows_its_sign_in_form(jim, pages):
    page = pages.new()
    page.goto(jim.url)
    page.wait_for_selector("form", state="visible")
    assert page.title()

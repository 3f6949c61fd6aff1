"""JMessage's official Python client (``jmessage`` 2.0.0, unchanged) uploads to jim, asks for
a download link, and sends an image upload's answer back as a message's body, as its
documentation shows."""
import io
import json
from urllib.parse import urlsplit

import jmessage  # the [test] extra's
from jmessage.message import Message, Model, Resource
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import TestCase

from tests.integration.test_rest_live import Clients
from tests.support.media import AMR, image_bytes
from tests.support.rest import build_request, send_raw, start_rest


class JMessageMediaTests(TestCase, Clients):
    timeout = 60

    async def setUp(self):
        self.jim, self.rest = await start_rest(self)
        base = f"http://127.0.0.1:{self.jim.port}/v1/"
        self.patch(Resource, "URI", base + "resource")
        self.patch(Message, "URI", base + "messages/")
        client = jmessage.JMessage(self.rest.key, self.rest.secret)
        client._session.headers["Connection"] = "close"
        client._session.trust_env = False
        self.resources, self.messages = Resource(client), Message(client)

    async def test_upload_download_and_send(self):
        await self.rest.register("bobby")
        await self.rest.admin("admin1")
        bobby = await self.tcp(self.jim, "bobby")
        content = image_bytes("JPEG", (16, 9))
        response = await deferToThread(self.resources.upload_image, io.BytesIO(content))
        self.assertEqual(response.status_code, 200, response.text)
        image = response.json()
        self.assertEqual((image["width"], image["height"], image["format"]), (16, 9, "jpg"))
        voice = await deferToThread(self.resources.upload_voice, io.BytesIO(AMR))
        self.assertEqual(voice.json()["format"], "amr")

        # Python URL-encodes the media id
        response = await deferToThread(self.resources.download, image["media_id"])
        self.assertEqual(response.status_code, 200, response.text)
        link = urlsplit(response.json()["url"])
        got = await send_raw(self.jim.port, build_request("GET", f"{link.path}?{link.query}"))
        self.assertEqual(got.body, content)

        model = Model().image(image).set_target("bobby", "single").set_from("admin1", "admin")
        response = await deferToThread(self.messages.send, model)
        self.assertEqual(response.status_code, 201, response.text)
        chat = (await bobby.expect(11))["data"]
        self.assertEqual(json.loads(chat["content"])["media_id"], image["media_id"])

"""An S3-compatible server for tests: moto's, over real HTTP on a free loopback port."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wta_runtime.channel.s3_media_store import S3Bucket, S3MediaStore, s3_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# moto accepts any key pair; these keep boto3 away from real credentials of the machine.
ACCESS_KEY_ID = "test-access-key"
SECRET_ACCESS_KEY = "test-secret-key"
REGION = "us-east-1"


@dataclass
class S3Server:
    endpoint_url: str

    @property
    def env(self) -> dict[str, str]:
        """What a worker process needs to reach this server as its media store."""
        return {
            "WTA_MEDIA_STORE": "s3",
            "WTA_MEDIA_S3_ENDPOINT_URL": self.endpoint_url,
            "WTA_MEDIA_S3_REGION": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        }

    def client(self) -> S3Client:
        """A plain client, to look at the bucket the way an operator would."""
        return s3_client(
            S3Bucket("unused", endpoint_url=self.endpoint_url, region=REGION),
            access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
        )

    def new_bucket(self, *, versioned: bool = False) -> str:
        """A fresh private bucket; versioned buckets count every upload."""
        name = f"wta-media-{secrets.token_hex(4)}"
        client = self.client()
        client.create_bucket(Bucket=name)
        if versioned:
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        client.close()
        return name

    def store(self, bucket: S3Bucket) -> S3MediaStore:
        """A media store on `bucket` of this server."""
        client = s3_client(bucket, access_key_id=ACCESS_KEY_ID, secret_access_key=SECRET_ACCESS_KEY)
        return S3MediaStore(client, bucket)


@contextmanager
def serve_s3() -> Iterator[S3Server]:
    """Run moto's S3 server for the duration of the block."""
    from moto.server import ThreadedMotoServer  # a second to import: only for tests that use it

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()

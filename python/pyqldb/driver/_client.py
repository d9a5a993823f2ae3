"""Building the native client (``pyqldb._native.RawClient``) from pyqldb's client arguments.

Shared by the 3.x ``QldbDriver`` and the 2.x drivers: the optional botocore ``Config`` and boto3
``Session`` are type-checked only against the installed packages, and what the native client needs
is taken from them (timeouts, user agent, region and credentials); the endpoint is ``endpoint_url``,
else ``AWS_ENDPOINT_URL_QLDB_SESSION`` / ``AWS_ENDPOINT_URL`` (read by the native layer), else the
regional endpoint (with a boto3 session: the endpoint its profile configures for ``qldb-session``).
``endpoint_url`` may also be ``memory://NAME`` or ``file:///DIR`` (embedded ledger).
"""

import os
from logging import getLogger

from .. import _native

logger = getLogger("pyqldb.driver.qldb_driver")

DEFAULT_MAX_POOL_CONNECTIONS = 10
SERVICE_NAME = "qldb-session"

SESSION_PARAMETERS_IGNORED = (
    "Custom parameters were detected while using a specified Boto3 client and will be ignored. Please "
    "preconfigure the Boto3 client with those parameters instead."
)


def botocore_config_class():
    """``botocore.config.Config``, or None when botocore is not installed."""
    try:
        from botocore.config import Config
    except ImportError:
        return None
    return Config


def boto3_session_class():
    """``boto3.session.Session``, or None when boto3 is not installed."""
    try:
        from boto3.session import Session
    except ImportError:
        return None
    return Session


class DefaultConfig:
    """What the driver keeps as ``_config`` when no botocore ``Config`` is given (botocore's defaults)."""

    def __init__(self, user_agent_extra=None, retries=None):
        self.user_agent_extra = user_agent_extra
        self.retries = retries
        self.max_pool_connections = DEFAULT_MAX_POOL_CONNECTIONS
        self.connect_timeout = 60
        self.read_timeout = 60

    def __repr__(self):
        return "DefaultConfig(user_agent_extra=%r, retries=%r, max_pool_connections=%r)" % (
            self.user_agent_extra,
            self.retries,
            self.max_pool_connections,
        )


def check_config(config):
    """``TypeError`` unless ``config`` is a ``botocore.config.Config`` (always, without botocore)."""
    config_class = botocore_config_class()
    if config_class is None or not isinstance(config, config_class):
        raise TypeError("config must be of type botocore.config.Config. Found: {}".format(type(config).__name__))


def check_boto3_session(boto3_session):
    """``TypeError`` unless ``boto3_session`` is a ``boto3.session.Session`` (always, without boto3)."""
    session_class = boto3_session_class()
    if session_class is None or not isinstance(boto3_session, session_class):
        raise TypeError(
            "boto3_session must be of type boto3.session.Session. Found: {}".format(type(boto3_session).__name__)
        )


def user_agent_extra(service_description, config):
    """The User-Agent suffix: the driver's description, then the config's own ``user_agent_extra``."""
    extra = getattr(config, "user_agent_extra", None)
    if extra and extra != service_description:
        return service_description + " " + extra
    return service_description


def make_client(
    service_description,
    config,
    boto3_session=None,
    region_name=None,
    verify=None,
    endpoint_url=None,
    aws_access_key_id=None,
    aws_secret_access_key=None,
    aws_session_token=None,
    **native_options,
):
    """The ``RawClient`` for pyqldb's client arguments (the checks of ``config`` and
    ``boto3_session`` come first, in the caller). With a boto3 session its region and credentials
    are used and the explicit ones ignored with pyqldb's warning."""
    if boto3_session is not None:
        if (
            region_name is not None
            or aws_access_key_id is not None
            or aws_secret_access_key is not None
            or (aws_session_token is not None)
        ):
            logger.warning(SESSION_PARAMETERS_IGNORED)
        region_name = boto3_session.region_name
        if endpoint_url is None:
            endpoint_url = session_endpoint(boto3_session)
        aws_access_key_id = aws_secret_access_key = aws_session_token = None
        credentials = boto3_session.get_credentials()
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
            aws_access_key_id, aws_secret_access_key = frozen.access_key, frozen.secret_key
            aws_session_token = frozen.token
    return _native.RawClient(
        endpoint_url,
        region_name=region_name,
        aws_access_key_id=aws_access_key_id,
        aws_secret_access_key=aws_secret_access_key,
        aws_session_token=aws_session_token,
        verify=verify if isinstance(verify, (str, bool, os.PathLike)) else None,
        user_agent_extra=user_agent_extra(service_description, config),
        connect_timeout=_seconds(getattr(config, "connect_timeout", None)),
        read_timeout=_seconds(getattr(config, "read_timeout", None)),
        **native_options,
    )


def session_endpoint(boto3_session):
    """The ``qldb-session`` endpoint a boto3 session is configured with (``AWS_ENDPOINT_URL_QLDB_SESSION``,
    ``AWS_ENDPOINT_URL``, or its profile's ``services`` section or ``endpoint_url``), or None."""
    try:
        from botocore.configprovider import ConfiguredEndpointProvider

        core = boto3_session._session
        provider = ConfiguredEndpointProvider(core.full_config, core.get_scoped_config(), SERVICE_NAME)
        return provider.provide()
    except Exception:  # noqa: BLE001 - best effort: private botocore API, older versions lack it
        return None


def _seconds(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None

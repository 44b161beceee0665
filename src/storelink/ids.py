"""Global IDs ("Store:12", base64url) without the GraphQL layer, for services that name an object
in an error's field path the way clients know it."""
import base64


def global_id(type_name: str, pk: int | str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")

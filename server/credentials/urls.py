from rest_framework.routers import SimpleRouter

from server.credentials.views import CredentialViewSet

router = SimpleRouter()
router.register("credentials", CredentialViewSet, basename="credential")

urlpatterns = router.urls

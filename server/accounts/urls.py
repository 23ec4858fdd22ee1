from django.urls import path
from rest_framework.routers import SimpleRouter

from server.accounts import views

router = SimpleRouter()
router.register("tokens", views.TokenViewSet, basename="token")
router.register("workspaces", views.WorkspaceViewSet, basename="workspace")

urlpatterns = [
    path("auth/csrf/", views.CsrfView.as_view(), name="auth-csrf"),
    path("auth/login/", views.LoginView.as_view(), name="auth-login"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("me/", views.MeView.as_view(), name="me"),
    path(
        "workspaces/<uuid:workspace_id>/members/",
        views.MemberListView.as_view(),
        name="workspace-members",
    ),
    path(
        "workspaces/<uuid:workspace_id>/members/<int:user_id>/",
        views.MemberDetailView.as_view(),
        name="workspace-member",
    ),
    path(
        "workspaces/<uuid:workspace_id>/invitations/",
        views.InvitationListView.as_view(),
        name="workspace-invitations",
    ),
    path(
        "workspaces/<uuid:workspace_id>/invitations/<uuid:invitation_id>/",
        views.InvitationDetailView.as_view(),
        name="workspace-invitation",
    ),
    path("invitations/<str:token>/", views.InvitationView.as_view(), name="invitation"),
    path(
        "invitations/<str:token>/accept/",
        views.InvitationAcceptView.as_view(),
        name="invitation-accept",
    ),
    *router.urls,
]

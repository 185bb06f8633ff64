package kubetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// grantTimeout bounds the wait for a new binding to take effect.
const grantTimeout = 30 * time.Second

// Grant lets user do verbs (such as "get", "list", "watch") on the given
// core-group resources (such as "pods", "namespaces", "nodes") in every
// namespace, through a new ClusterRole and ClusterRoleBinding, and returns
// once the API server's authorizer allows each of them. Grants add up.
func (s *Server) Grant(t testing.TB, user string, verbs []string, resources ...string) {
	t.Helper()
	if len(verbs) == 0 || len(resources) == 0 {
		t.Fatalf("grant %s: no verbs or no resources", user)
	}
	ctx, cancel := context.WithTimeout(context.Background(), grantTimeout)
	defer cancel()
	rbac := s.client.RbacV1()
	role, err := rbac.ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "kubetest-grant-"},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""},
			Resources: resources,
			Verbs:     verbs,
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("grant %s %v on %v: create ClusterRole: %v", user, verbs, resources, err)
	}
	_, err = rbac.ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("grant %s %v on %v: create ClusterRoleBinding: %v", user, verbs, resources, err)
	}
	// The RBAC authorizer reads bindings from an informer cache, so a
	// request made right after the Create could still be refused.
	for _, res := range resources {
		for _, verb := range verbs {
			if err := s.waitAllowed(ctx, user, verb, res); err != nil {
				t.Fatalf("grant %s %v on %v: %v", user, verbs, resources, err)
			}
		}
	}
}

// waitAllowed asks the authorizer, through SubjectAccessReviews, until it
// allows user to do verb on the core resource res.
func (s *Server) waitAllowed(ctx context.Context, user, verb, res string) error {
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:               user,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Resource: res},
	}}
	for {
		got, err := s.client.AuthorizationV1().SubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err == nil && got.Status.Allowed {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("not allowed yet (%s)", got.Status.Reason)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s %s: %w", verb, res, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

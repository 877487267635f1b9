/* credit-policy.h - when a profile sends an unsolicited CREDIT_UPDATE (public: the profile rules name it). */
#ifndef VSE_CREDIT_POLICY_H
#define VSE_CREDIT_POLICY_H

/* The credit-update policies of the device profiles. */
enum vsock_credit_policy {
	VSOCK_CREDIT_FIRECRACKER,
	VSOCK_CREDIT_LINUX,
};

#endif

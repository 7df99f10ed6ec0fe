/**
 * Who may call a method, from least to most trusted. `anyone`: no
 * credentials, in any auth mode. `guest`: whoever the server lets in (in open
 * mode anyone, who may name themselves in the call; with accounts required,
 * an account). `account`: an account's token. `member`: a guest who may use
 * the room the call names. `moderator`, `owner`: a member with that role in
 * the room. `admin`: a server admin.
 */
export type Access = "anyone" | "guest" | "account" | "member" | "moderator" | "owner" | "admin";

// Where the shop's API answers. `shopsmart-deploy up` and `dev` overwrite this file with the real URL;
// this default is the local-mode function (`PORT=3000 shopsmart-api`).
export const API_URL = "http://127.0.0.1:3000";
